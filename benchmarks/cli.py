"""`asl bench`: a thin click layer over asl.benchmarks.suite."""
from __future__ import annotations

from pathlib import Path

import click


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}") from None


@click.command()
@click.option("--model", "models", multiple=True, type=click.Path(path_type=Path),
              help="ONNX model to time (repeatable; default: the bundled fp32 and int8 models, and fp16 if present).")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="PyTorch checkpoint: the reference for parity (default: the bundled asl.pt).")
@click.option("--data", multiple=True, type=click.Path(path_type=Path),
              help="Labelled folder (repeatable): accuracy parity on its validation part (the last 20% of frames).")
@click.option("--providers", default="cpu", show_default=True, help="Comma-separated: cpu, cuda, tensorrt.")
@click.option("--batch", "batches", default="1,8,32", show_default=True, help="Batch sizes.")
@click.option("--threads", default="1,2", show_default=True, help="CPU thread counts.")
@click.option("--no-seed", is_flag=True, help="Skip the seed CNN baseline.")
@click.option("--min-seconds", type=float, default=2.0, show_default=True, help="Timed seconds per measurement (at least 20 runs).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
def bench(models, checkpoint, data, providers, batches, threads, no_seed, min_seconds, out):
    """Latency (p50/p90/p99, throughput, camera-frame FPS) and parity of every variant, against the seed CNN."""
    from asl import models as bundled
    from asl.benchmarks.report import write_reports
    from asl.benchmarks.suite import BenchConfig, run_bench

    if not models:
        models = [p for p in (bundled.FP32, bundled.INT8, bundled.FP32.with_name("asl.fp16.onnx")) if p.is_file()]
        if not models:
            raise click.ClickException("no bundled ONNX models found: pass --model")
    checkpoint = checkpoint or (bundled.CHECKPOINT if bundled.CHECKPOINT.is_file() else None)
    config = BenchConfig(list(models), checkpoint, list(data), [p.strip().lower() for p in providers.split(",")],
                         _ints(batches), _ints(threads), not no_seed, min_seconds)
    report = run_bench(config, progress=lambda line: click.echo(line, err=True))
    for path in write_reports(report, out):
        click.echo(f"wrote {path}")
