"""`asl predict`, `asl live` and `asl eval`: click layers over the runtime (no torch unless a .pt is scored)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from asl.runtime.providers import CHOICES
from asl.runtime.spelling import SpellerConfig

_SPELL = SpellerConfig()


# A plain string checked by the runtime, so a wrong name is one clear line like every other error.
provider_option = click.option("--provider", default="auto", show_default=True, metavar="|".join(CHOICES),
                               help="Execution provider; auto = TensorRT, then CUDA, then CPU, whichever is installed.")


def model_options(command):
    """--model, --provider, --strict, --threads: how every runtime verb loads its model."""
    for option in reversed([
        click.option("--model", type=click.Path(path_type=Path), default=None, help="ONNX model (default: the bundled int8 model)."),
        provider_option,
        click.option("--strict", is_flag=True, help="Fail instead of falling back when the provider asked for cannot run."),
        click.option("--threads", type=int, default=None, help="CPU threads for ONNX Runtime."),
    ]):
        command = option(command)
    return command


def roi_option(command):
    return click.option("--roi", default=None, metavar="X,Y,W,H",
                        help="Region of interest in fractions of the frame, e.g. 0.5,0.1,0.45,0.6 (default: centred square).")(command)


def speller_options(command):
    """--hold, --min-prob, --break-frames: the fingerspelling settings of `live` and `serve`."""
    for option in reversed([
        click.option("--hold", type=int, default=_SPELL.hold_frames, show_default=True, help="Frames a sign must be held to be typed."),
        click.option("--min-prob", type=float, default=_SPELL.min_probability, show_default=True, help="Probability a frame needs to count."),
        click.option("--break-frames", type=int, default=_SPELL.break_frames, show_default=True,
                     help="Frames of something else needed before the same sign can be typed again."),
    ]):
        command = option(command)
    return command


def load_recognizer(model, provider, strict, threads, roi=None):
    """The Recognizer a verb's options ask for, announcing on stderr what actually runs."""
    from asl.runtime.image import parse_roi
    from asl.runtime.recognizer import Recognizer

    recognizer = Recognizer(model, provider=provider, threads=threads, strict=strict, roi=parse_roi(roi))
    click.echo(f"model: {recognizer.source} ({recognizer.info.precision}) on {recognizer.provider}", err=True)
    return recognizer


@click.command()
@click.argument("source")
@model_options
@roi_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines on stdout: source, label, probability, top_k.")
@click.option("--batch-size", type=int, default=16, show_default=True, help="Images per inference call.")
def predict(source, model, provider, strict, threads, roi, as_json, batch_size):
    """Name the sign in SOURCE: an image, folder, glob, video file, camera index or GStreamer pipeline.

    One line per image or frame. Unreadable images are reported on stderr and skipped.
    """
    from asl.runtime.sources import open_source

    recognizer = load_recognizer(model, provider, strict, threads, roi)
    done = skipped = 0

    def emit(frames):
        for frame, prediction in zip(frames, recognizer.predict_batch([f.image for f in frames])):
            if as_json:
                click.echo(json.dumps({"source": frame.name, **prediction.to_dict()}))
            else:
                click.echo(f"{frame.name}\t{prediction.label}\t{prediction.probability:.3f}")

    with open_source(source) as frames:
        pending = []
        for frame in frames:
            if frame.image is None:
                skipped += 1
                click.echo(f"skipped: {frame.error}", err=True)
                continue
            pending.append(frame)
            done += 1
            if len(pending) >= (1 if frames.is_stream else batch_size):
                emit(pending)
                pending = []
        emit(pending)
    click.echo(f"{done} predicted, {skipped} skipped", err=True)
    if done == 0:
        sys.exit(1)


@click.command()
@click.argument("source", default="0")
@model_options
@roi_option
@click.option("--headless", is_flag=True, help="No window (for servers and tests).")
@click.option("--save", type=click.Path(path_type=Path), default=None, help="Write the annotated video here (.mp4 or .avi).")
@speller_options
def live(source, model, provider, strict, threads, roi, headless, save, hold, min_prob, break_frames):
    """Live recognition and fingerspelling from SOURCE (camera index, video, GStreamer pipeline, picamera2).

    Shows the frame, the region of interest, the sign, its probability, FPS and the typed text;
    prints the text at the end.
    """
    from asl.runtime.live import check_display, run_live
    from asl.runtime.sources import open_source
    from asl.runtime.spelling import Speller

    if not headless:
        check_display()
    recognizer = load_recognizer(model, provider, strict, threads, roi)
    speller = Speller(SpellerConfig(hold, min_prob, break_frames))
    with open_source(source) as frames:
        text = run_live(frames, recognizer, speller, show=not headless, save=save,
                        on_commit=lambda sign, typed: click.echo(f"+{sign:<8} {typed}", err=True))
    if save:
        click.echo(f"wrote {save}", err=True)
    click.echo(text)


@click.command("eval")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="ONNX model or .pt checkpoint (default: the bundled int8 model).")
@provider_option
@click.option("--threads", type=int, default=None, help="CPU threads for ONNX Runtime.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write the full result here.")
def evaluate(data_dir, model, provider, threads, json_out):
    """Top-1 accuracy, per-class recall/precision and confusion of a model on DATA_DIR (class folders or Kaggle test layout)."""
    from asl.runtime.evaluate import evaluate as run, load_scorer
    from asl.runtime.scoring import format_table

    logits_fn, info, description = load_scorer(model, provider, threads)
    click.echo(f"model: {description}", err=True)
    result = run(data_dir, logits_fn, info)
    result["model"] = description
    click.echo(format_table(result, title=f"{data_dir}"))
    if result["skipped"]:
        click.echo("skipped: " + ", ".join(f"{n} {why}" for why, n in result["skipped"].items()), err=True)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        tmp = json_out.with_name(json_out.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=2))
        tmp.replace(json_out)
