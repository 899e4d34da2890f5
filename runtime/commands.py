"""`asl predict`, `asl live` and `asl eval`: click layers over the runtime (no torch unless a .pt is scored)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from asl.runtime.providers import CHOICES, MAX_THREADS
from asl.runtime.spelling import SpellerConfig

_SPELL = SpellerConfig()


# A plain string checked by the runtime, so a wrong name is one clear line like every other error.
provider_option = click.option("--provider", default="auto", show_default=True, metavar="|".join(CHOICES),
                               help="Execution provider; auto = TensorRT, then CUDA, then CPU, whichever is installed.")


threads_option = click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=None,
                              help=f"CPU threads for ONNX Runtime (1..{MAX_THREADS}; default: ONNX Runtime's choice).")


def model_options(command):
    """--model, --provider, --strict, --threads, --profile: how every runtime verb loads its model."""
    for option in reversed([
        click.option("--model", type=click.Path(path_type=Path), default=None, help="ONNX model (default: the bundled int8 model)."),
        provider_option,
        click.option("--strict", is_flag=True, help="Fail instead of falling back when the provider asked for cannot run."),
        threads_option,
        click.option("--profile", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="A signer profile (asl calibrate): your own signs, read beside the model's."),
    ]):
        command = option(command)
    return command


def roi_option(command):
    """--hand and --roi: where in the frame the classifier looks."""
    command = click.option("--roi", default=None, metavar="X,Y,W,H",
                           help="A fixed box in fractions of the frame, e.g. 0.5,0.1,0.45,0.6 (implies --hand box).")(command)
    return click.option("--hand", type=click.Choice(("track", "box")), default="track", show_default=True,
                        help="track: find the hand anywhere in the frame and read a crop around it; "
                             "box: read a fixed box (--roi, or the centred square).")(command)


# Not on by default: a camera session gains only once it has seen most letters (README, "Adapting to the signer").
live_adapt_option = click.option("--adapt", is_flag=True,
                                 help="Adapt to the signer as they sign, no labels used: a letter is adapted to once "
                                      "10 of their hands were read as it (README, \"Adapting to the signer\").")


def speller_options(command):
    """--hold, --window, --min-prob: the fingerspelling settings of `live` and `serve` (asl.runtime.spelling)."""
    for option in reversed([
        click.option("--hold", type=click.FloatRange(0, 10), default=_SPELL.hold, show_default=True, metavar="SECONDS",
                     help="Seconds a sign must stay the window's clear favourite to be typed."),
        click.option("--window", type=click.FloatRange(0, 5), default=_SPELL.window, show_default=True, metavar="SECONDS",
                     help="Seconds of frames whose probabilities are averaged."),
        click.option("--min-prob", type=click.FloatRange(0, 1), default=_SPELL.min_probability, show_default=True,
                     help="Window-average probability a sign needs to become the candidate."),
    ]):
        command = option(command)
    return command


def load_recognizer(model, provider, strict, threads, roi=None, hand="track", profile=None):
    """The Recognizer a verb's options ask for, announcing on stderr what actually runs."""
    from asl.runtime.image import parse_roi
    from asl.runtime.recognizer import Recognizer

    recognizer = Recognizer(model, provider=provider, threads=threads, strict=strict, roi=parse_roi(roi), hand=hand,
                            profile=profile)
    where = (f"hands tracked ({'/'.join(recognizer.tracker.variants)} models)" if recognizer.tracker
             else "fixed box")
    if profile is not None:
        where += f"; signer profile {profile} ({len(recognizer.landmarks.profile.letters)} signs)"
    click.echo(f"model: {recognizer.source} ({recognizer.info.precision}) on {recognizer.provider}; {where}", err=True)
    return recognizer


@click.command()
@click.argument("source")
@model_options
@roi_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines on stdout: source, label, probability, top_k.")
@click.option("--batch-size", type=click.IntRange(1, 1024), default=16, show_default=True, help="Images per inference call.")
@click.option("--adapt", is_flag=True, help="SOURCE is one signer: read every frame, then answer adapted to that signer's "
                                            "hands, no labels used (a camera: answered as it comes, adapting as "
                                            "live --adapt does; README, \"Adapting to the signer\").")
def predict(source, model, provider, strict, threads, profile, hand, roi, as_json, batch_size, adapt):
    """Name the sign in SOURCE: an image, folder, glob, video file, camera index or GStreamer pipeline.

    One line per image or frame. Unreadable images are reported on stderr and skipped.
    """
    from asl.runtime.sources import open_source

    recognizer = load_recognizer(model, provider, strict, threads, roi, hand, profile)
    if adapt:
        recognizer.adaptive_profile()   # one line now when the model cannot adapt
    done = skipped = 0
    held: list = []   # --adapt on pictures or a video file: (name, observation) of every frame read so far

    def emit(names, predictions):
        for name, prediction in zip(names, predictions):
            if as_json:
                click.echo(json.dumps({"source": name, **prediction.to_dict()}))
            else:
                no_hand = "\tno hand" if recognizer.tracker is not None and prediction.hand is None else ""
                click.echo(f"{name}\t{prediction.label}\t{prediction.probability:.3f}{no_hand}")

    def read(frames):
        observed = [stream.observe(f.image) if is_stream else recognizer.observe_still(f.image) for f in frames]
        if adaptive is not None:
            held.extend(zip([f.name for f in frames], observed))
        else:
            emit([f.name for f in frames], recognizer.answer(observed, stream.adaptive))

    with open_source(source) as frames:
        is_stream, pending = frames.is_stream, []
        # A video's frames follow the hand; still images each search for it. A camera with --adapt is answered as it
        # comes, adapting as `live --adapt` does; anything else with --adapt is read whole, then answered.
        stream = recognizer.stream(adapt=adapt and frames.realtime)
        adaptive = recognizer.adaptive_profile() if adapt and not frames.realtime else None
        if adaptive is not None:
            click.echo("--adapt: every frame is read before the first is answered", err=True)
        try:
            for frame in frames:
                if frame.image is None:
                    skipped += 1
                    click.echo(f"skipped: {frame.error}", err=True)
                    continue
                pending.append(frame)
                done += 1
                if len(pending) >= (1 if frames.is_stream else batch_size):
                    batch, pending = pending, []
                    read(batch)
        finally:  # what was read before an error or Ctrl+C is still reported
            batch, pending = pending, []
            read(batch)
            if held:
                emit([name for name, _ in held], recognizer.answer([o for _, o in held], adaptive))
    click.echo(f"{done} predicted, {skipped} skipped", err=True)
    if done == 0:
        sys.exit(1)


@click.command()
@click.argument("source", default="0")
@model_options
@roi_option
@click.option("--headless", is_flag=True, help="No window (for servers and tests).")
@click.option("--save", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the annotated video here (.mp4 or .avi).")
@speller_options
@live_adapt_option
@click.option("--save-profile", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the profile, with each sign taught in the window (Tab, then its letter), here as it is taught.")
def live(source, model, provider, strict, threads, profile, hand, roi, headless, save, hold, window, min_prob, adapt,
         save_profile):
    """Live recognition and fingerspelling from SOURCE (camera index, video, GStreamer pipeline, picamera2).

    Shows the frame, the region of interest, the sign, its probability, FPS and the typed text;
    prints the text at the end. In the window: q quits, c clears the text, Tab then a letter teaches it that
    sign as you make it (2 s to form it, then 3 pictures).
    """
    from asl.runtime.files import check_writable
    from asl.runtime.live import check_display, run_live
    from asl.runtime.sources import open_source
    from asl.runtime.spelling import Speller

    if not headless:
        check_display()
    recognizer = load_recognizer(model, provider, strict, threads, roi, hand, profile)
    if adapt:
        recognizer.adaptive_profile()   # one line now, not at the first frame, when the model cannot adapt
    speller = Speller(SpellerConfig(window=window, hold=hold, min_probability=min_prob))
    if save_profile:
        check_writable(save_profile)

    def taught(profile):
        where = f": saved to {save_profile}" if save_profile else " (--save-profile PATH keeps it)"
        if save_profile:
            profile.save(save_profile)
        click.echo(f"taught: your own {', '.join(profile.letters)}{where}", err=True)

    with open_source(source) as frames:
        text = run_live(frames, recognizer, speller, show=not headless, save=save,
                        on_commit=lambda sign, typed: click.echo(f"+{sign:<8} {typed}", err=True), adapt=adapt,
                        on_taught=taught)
    if save:
        click.echo(f"wrote {save}", err=True)
    click.echo(text)
