"""`asl eval`: a click layer over asl.data.evaluate (scoring needs the data layer's folders and caches)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from asl.data import CLASSES
from asl.runtime.commands import provider_option, threads_option


@click.command("eval")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="ONNX model or .pt checkpoint (default: the bundled int8 model).")
@provider_option
@threads_option
@click.option("--hand", type=click.Choice(("track", "box")), default="track", show_default=True,
              help="track: classify the crop around the hand the tracker finds (no hand = `nothing`); box: the centred square.")
@click.option("--landmarks", default="auto", show_default=True, metavar="auto|none|PATH",
              help="Landmark classifier fused with the crop classifier: auto = the one beside the ONNX model (or the bundled one).")
@click.option("--profile", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A signer profile (asl calibrate) read beside the landmark classifier.")
@click.option("--adapt", is_flag=True,
              help="Read DATA_DIR as one signer's pictures and adapt to them, no labels used (README, \"Adapting to the signer\").")
@click.option("--json", "as_json", is_flag=True, help="The full result as JSON on stdout instead of the table.")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the full result as JSON to this file.")
def evaluate(data_dir, model, provider, threads, hand, landmarks, profile, adapt, as_json, report):
    """Top-1 accuracy, per-class recall/precision and confusion of a model on DATA_DIR (class folders or Kaggle test layout)."""
    from asl.data.evaluate import evaluate as run
    from asl.data.evaluate import load_scorer
    from asl.runtime.cli import progress_bars
    from asl.runtime.files import check_writable, write_atomic
    from asl.runtime.scoring import format_table

    if report:
        check_writable(report)  # before the work, not after it
    logits_fn, info, description = load_scorer(model, provider, threads)
    tracker = None
    if hand == "track":
        from asl.runtime.tracker import HandTracker

        tracker = HandTracker(provider=provider, threads=1)  # one thread per picture, pictures in parallel
    shape_model = None
    if tracker is not None:
        from asl.models import MODELS_DIR
        from asl.runtime.landmark_classifier import load_partner

        # A checkpoint has no landmark model beside it: auto takes the bundled one.
        crop_model = model if model is not None and Path(model).suffix == ".onnx" else MODELS_DIR / "asl.onnx"
        shape_model = load_partner(landmarks, crop_model, info.classes, provider, threads)
    if profile is not None:
        from asl.runtime.signer_profile import SignerProfile

        if shape_model is None:
            raise click.UsageError("--profile needs the tracked hand and its landmark classifier (not --hand box or --landmarks none)")
        shape_model.use_profile(SignerProfile.load(profile))
    if adapt:
        if shape_model is None:
            raise click.UsageError("--adapt needs the tracked hand and its landmark classifier (not --hand box or --landmarks none)")
        shape_model.require_profiles()
    where = "centred square" if tracker is None else "hands tracked" + (f", fused with {shape_model.path.name}" if shape_model else "")
    where += ", adapted to the signer" if adapt else ""
    click.echo(f"model: {description}; {where}", err=True)
    result = run(data_dir, logits_fn, info, tracker=tracker, landmarks=shape_model, progress=progress_bars(), adapt=adapt)
    result["model"] = description
    click.echo(json.dumps(result) if as_json else format_table(result, title=f"{data_dir}"))
    if "hands" in result:
        h = result["hands"]
        click.echo(f"hand found in {h['found']} of {h['found'] + h['not_found']} pictures; the other {h['not_found']} "
                   f"count as `nothing` ({h['not_found_and_nothing']} of them are `nothing` pictures)", err=True)
    if result["skipped"]:
        click.echo("skipped: " + ", ".join(f"{n} {why}" for why, n in result["skipped"].items()), err=True)
    if report:
        write_atomic(report, json.dumps(result, indent=2))


@click.command("calibrate")
@click.argument("data_dir", type=click.Path(path_type=Path), required=False)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The profile file to write (.npz), for --profile of predict, live, serve and eval.")
@click.option("--add", is_flag=True,
              help="Add these pictures to the profile already in --out (letters shown again average all their pictures).")
@click.option("--camera", default=None, metavar="SOURCE",
              help="Sign the letters now instead, one after another as asked: camera index, video, GStreamer pipeline or picamera2.")
@click.option("--letter", "letters", multiple=True, type=click.Choice(CLASSES, case_sensitive=False), metavar="LETTER",
              help="With --camera: a letter to sign (repeatable; default: every sign but `nothing`).")
@click.option("--per-letter", type=click.IntRange(1, None), default=None,
              help="Pictures of each letter: the first N with a hand in each class folder (default: all), "
                   "or N taken from the camera (default: 3).")
@click.option("--settle", type=click.FloatRange(0, 30), default=2.0, show_default=True, metavar="SECONDS",
              help="With --camera: time to form each sign before its pictures are taken.")
@click.option("--keep", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="With --camera: keep the pictures taken in this folder (class folders; default: discarded).")
@click.option("--headless", is_flag=True, help="With --camera: no window; the letters are asked for on stderr.")
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="The crop model whose landmark classifier (asl.landmarks.onnx beside it) reads the profile "
                   "(default: the bundled one).")
@provider_option
@threads_option
def calibrate(data_dir, out, add, camera, letters, per_letter, settle, keep, headless, model, provider, threads):
    """A signer profile of your own signs: from DATA_DIR, a few pictures a letter in class folders (A/, B/, …), or
    signed now in front of --camera. Letters you sign your own way are then read as you sign them (--profile)."""
    import contextlib
    import tempfile

    from asl.data.profiles import build_profile
    from asl.models import MODELS_DIR
    from asl.runtime.cli import progress_bars
    from asl.runtime.files import check_output_dir, check_writable
    from asl.runtime.landmark_classifier import LandmarkClassifier, LandmarkModelError, partner_path
    from asl.runtime.signer_profile import SignerProfile
    from asl.runtime.tracker import HandTracker

    if (data_dir is None) == (camera is None):
        raise click.UsageError("give a folder of your signs, or --camera SOURCE to sign them now (one of the two)")
    check_writable(out)
    kept = SignerProfile.load(out) if add and out.exists() else None   # one line now if it is not a profile
    path = partner_path(model if model is not None else MODELS_DIR / "asl.onnx")
    if not path.is_file():
        raise LandmarkModelError(f"no landmark classifier beside {model}: {path} not found")
    classifier = LandmarkClassifier(path, provider, threads)
    classifier.require_profiles()
    if kept is not None:
        classifier.check_profile(kept)   # before the tracking, not after it
    tracker = HandTracker(provider=provider, threads=1)
    with contextlib.ExitStack() as stack:
        if camera is not None:
            data_dir = check_output_dir(keep) if keep else Path(stack.enter_context(tempfile.TemporaryDirectory()))
            _sign_now(camera, tracker, [c for c in CLASSES if c in letters]
                      or [c for c in classifier.classes if c != "nothing"], per_letter or 3, settle, data_dir, headless)
            per_letter = None
        profile = build_profile(data_dir, classifier, tracker, per_letter, progress=progress_bars(), use_cache=camera is None)
    if kept is not None:
        profile = kept.merged(profile)
    profile.save(out)
    shown = ", ".join(f"{c} {n}" for c, n in zip(profile.classes, profile.counts) if n)
    click.echo(f"wrote {out}: {len(profile.letters)} signs ({shown}) for {path}")


def _sign_now(camera, tracker, letters, per_letter, settle, folder, headless):
    """Asks for each letter in turn and keeps the pictures taken (runtime.collect), in a window unless headless."""
    from asl.runtime.collect import CollectConfig, collect_signs
    from asl.runtime.live import check_display, window_shows
    from asl.runtime.overlay import prompt
    from asl.runtime.sources import open_source
    from asl.runtime.tracker import HandTrack

    if not headless:
        check_display()
    title = "asl calibrate (q: quit)"

    def show(frame, hand, letter, kept, taking):
        return window_shows(prompt(frame, hand, letter, kept, per_letter, taking), title)

    try:
        with open_source(camera) as frames:
            collect_signs(frames, HandTrack(tracker).update, CollectConfig(tuple(letters), per_letter, settle), folder,
                          on_prompt=lambda letter, i: click.echo(f"sign {letter} ({i + 1} of {len(letters)})", err=True),
                          on_frame=None if headless else show)
    finally:
        if not headless:
            import cv2

            cv2.destroyAllWindows()
