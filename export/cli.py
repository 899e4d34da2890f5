"""`asl export`: a thin click layer over asl.export.pipeline."""
from __future__ import annotations

from pathlib import Path

import click

from asl.export.int8 import METHODS
from asl.export.onnx_tools import OPSET
from asl.runtime.landmark_classifier import FUSION_WEIGHT

MIN_OPSET, MAX_OPSET = 13, 20   # per-channel int8 needs 13; torch's TorchScript exporter stops at 20


@click.command()
@click.argument("checkpoint", type=click.Path(path_type=Path), metavar="CHECKPOINT|MODEL.onnx")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("models/asl.onnx"), show_default=True,
              help="The fp32 model; --fp16 and --int8 write NAME.fp16.onnx and NAME.int8.onnx beside it.")
@click.option("--fp16", is_flag=True, help="Also write half-precision weights for GPU providers.")
@click.option("--int8", "int8", is_flag=True, help="Also write a static int8 (QDQ) model; needs --calib.")
@click.option("--calib", multiple=True, type=click.Path(path_type=Path),
              help="Class-folder images (repeatable): int8 calibration on their train parts, its gate on their val parts.")
@click.option("--data", multiple=True, type=click.Path(path_type=Path),
              help="Class-folder images (repeatable) for the parity check (default: --calib; synthetic when none).")
@click.option("--calib-method", type=click.Choice(("auto",) + METHODS), default="auto", show_default=True,
              help="int8 calibration; auto measures each and keeps the most accurate.")
@click.option("--opset", type=click.IntRange(MIN_OPSET, MAX_OPSET), default=OPSET, show_default=True,
              help=f"ONNX opset ({MIN_OPSET}..{MAX_OPSET}: per-channel int8 needs 13, torch's exporter stops at 20).")
@click.option("--static-batch", is_flag=True, help="Fix the batch size to 1 (TensorRT builds faster engines).")
@click.option("--force", is_flag=True, help="Write the int8 model even if it fails the accuracy gate.")
@click.option("--triton", type=click.Path(path_type=Path), metavar="DIR",
              help="Also write a Triton Inference Server model repository: the exported models and the shipped hand models.")
@click.option("--triton-add", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="ONNX",
              help="Another ONNX model for the --triton repository (repeatable).")
@click.option("--max-batch-size", type=click.IntRange(1), default=32, show_default=True,
              help="Triton: the largest batch dynamic batching forms (models with a dynamic batch dimension).")
def export(checkpoint, out, fp16, int8, calib, data, calib_method, opset, static_batch, force, triton, triton_add,
           max_batch_size):
    """Export a training checkpoint to checked, simplified ONNX with parity figures in its metadata.

    With --triton DIR, also write a model repository for `tritonserver --model-repository DIR`.
    Given an exported MODEL.onnx instead of a checkpoint, only that repository is written.
    """
    from asl.export import triton as repository
    from asl.export.pipeline import ExportRequest
    from asl.export.pipeline import export as run

    if triton:
        repository.check_target(triton)  # before any file is written
    if checkpoint.suffix == ".onnx":
        if not triton:
            raise click.UsageError("an .onnx model is already exported: pass --triton DIR to put it in a Triton repository")
        written = [checkpoint]
    else:
        written = run(ExportRequest(checkpoint, out, fp16=fp16, int8=int8, calib=list(calib), data=list(data), opset=opset,
                                    static_batch=static_batch, calib_method=calib_method, force=force))
        for path in written:
            click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    if triton:
        models = repository.write_repository(triton, [*written, *repository.shipped_hand_models(), *triton_add], max_batch_size)
        click.echo(f"wrote Triton model repository {triton}: {', '.join(m.name for m in models)}")


@click.command("export-hands")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the ONNX files (default: the package's models/ folder).")
@click.option("--source", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="A mediapipe/modules folder (default: the installed mediapipe wheel's).")
@click.option("--data", multiple=True, type=click.Path(path_type=Path, exists=True),
              help="Image folder (repeatable): real pictures for the parity check against TFLite.")
@click.option("--images", type=click.IntRange(1, 500), default=24, show_default=True,
              help="Pictures for the parity check, spread over the --data folders.")
@click.option("--variant", "variants", multiple=True, type=click.Choice(("lite", "full")),
              help="Which models to convert (repeatable; default: both).")
def export_hands(out, source, data, images, variants):
    """Convert MediaPipe's palm detector and hand landmark models (mediapipe 0.10.21, Apache-2.0) to ONNX."""
    from asl.export.hands import HandExportRequest
    from asl.export.hands import export_hands as run
    from asl.export.hands_data import sample_pictures
    from asl.models import MODELS_DIR

    pictures = sample_pictures(list(data), images)
    request = HandExportRequest(out or MODELS_DIR, source, pictures, tuple(variants) or ("lite", "full"))
    for path in run(request, progress=lambda line: click.echo(line, err=True)):
        click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


@click.command("export-landmarks")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The ONNX file (default: asl.landmarks.onnx in the package's models/ folder, beside the crop classifier).")
@click.option("--fusion-weight", type=click.FloatRange(0, 10), default=FUSION_WEIGHT, show_default=True,
              help="Weight of its log-probabilities when added to the crop classifier's.")
def export_landmarks(checkpoint, out, fusion_weight):
    """Export a landmark classifier checkpoint (asl train-landmarks) to checked ONNX."""
    from asl.export.landmarks import export_landmarks as run
    from asl.export.parity import describe
    from asl.models import MODELS_DIR
    from asl.runtime.landmark_classifier import FILE_NAME

    out = out or MODELS_DIR / FILE_NAME
    parity = run(checkpoint, out, fusion_weight)
    click.echo(f"parity with PyTorch: {describe(parity)}", err=True)
    click.echo(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
