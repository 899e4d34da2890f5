"""`asl eval`: a click layer over asl.data.evaluate (scoring needs the data layer's folders and caches)."""
from __future__ import annotations

import json
from pathlib import Path

import click

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
@click.option("--json", "as_json", is_flag=True, help="The full result as JSON on stdout instead of the table.")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the full result as JSON to this file.")
def evaluate(data_dir, model, provider, threads, hand, landmarks, as_json, report):
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
    where = "centred square" if tracker is None else "hands tracked" + (f", fused with {shape_model.path.name}" if shape_model else "")
    click.echo(f"model: {description}; {where}", err=True)
    result = run(data_dir, logits_fn, info, tracker=tracker, landmarks=shape_model, progress=progress_bars())
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
