"""`asl export`: a thin click layer over asl.export.pipeline."""
from __future__ import annotations

from pathlib import Path

import click

from asl.export.graph import OPSET
from asl.export.int8 import METHODS


@click.command()
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("models/asl.onnx"), show_default=True,
              help="The fp32 model; --fp16 and --int8 write NAME.fp16.onnx and NAME.int8.onnx beside it.")
@click.option("--fp16", is_flag=True, help="Also write half-precision weights for GPU providers.")
@click.option("--int8", "int8", is_flag=True, help="Also write a static int8 (QDQ) model; needs --calib.")
@click.option("--calib", multiple=True, type=click.Path(path_type=Path),
              help="Class-folder images (repeatable): int8 calibration on their train parts, its gate on their val parts.")
@click.option("--data", multiple=True, type=click.Path(path_type=Path),
              help="Class-folder images (repeatable) for the parity check (default: --calib; synthetic when none).")
@click.option("--calib-method", type=click.Choice(("auto",) + METHODS), default="auto", show_default=True,
              help="int8 calibration; auto measures each and keeps the most accurate.")
@click.option("--opset", type=int, default=OPSET, show_default=True, help="ONNX opset.")
@click.option("--static-batch", is_flag=True, help="Fix the batch size to 1 (TensorRT builds faster engines).")
@click.option("--force", is_flag=True, help="Write the int8 model even if it fails the accuracy gate.")
def export(checkpoint, out, fp16, int8, calib, data, calib_method, opset, static_batch, force):
    """Export a training checkpoint to checked, simplified ONNX with parity figures in its metadata."""
    from asl.export.pipeline import ExportRequest, export as run

    written = run(ExportRequest(checkpoint, out, fp16=fp16, int8=int8, calib=list(calib), data=list(data), opset=opset,
                                static_batch=static_batch, calib_method=calib_method, force=force))
    for path in written:
        click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
