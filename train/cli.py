"""`asl train`: a thin click layer over asl.train.loop."""
from __future__ import annotations

from dataclasses import fields

import click

from asl.train.loop import TrainConfig

_DEFAULTS = {f.name: f.default for f in fields(TrainConfig) if not callable(f.default_factory)}


def _option(name: str, help_text: str, **kwargs):
    return click.option("--" + name.replace("_", "-"), name, default=_DEFAULTS[name], show_default=True, help=help_text, **kwargs)


@click.command()
@click.option("--data", multiple=True, required=True, type=click.Path(), help="Class-folder dataset to train on (repeatable); its last frames of each class are validation.")
@click.option("--holdout", multiple=True, type=click.Path(), help="Dataset scored every epoch but never trained on (repeatable): leave-one-set-out.")
@click.option("--out", required=True, type=click.Path(), help="Folder for the checkpoint asl.pt, metrics.json and plots.")
@_option("epochs", "Training epochs.")
@_option("batch_size", "Images per step.")
@_option("lr", "Peak AdamW learning rate (warm-up, then cosine decay).")
@_option("input_size", "Model input size in pixels (square).")
@_option("width", "Channel width multiplier of AslNet.")
@_option("expand", "Expansion factor of AslNet's inverted residual blocks.")
@_option("val_fraction", "Share of each class's last frames held out for validation.")
@_option("seed", "Random seed (sampling, augmentation, initialisation).")
@_option("device", "auto, cpu, cuda or cuda:N.")
@click.option("--threads", type=int, default=None, help="CPU threads for torch (default: all cores).")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out from its last epoch.")
@click.option("--no-progress", is_flag=True, help="No progress bars (logs only).")
def train(data, holdout, out, resume, no_progress, **options):
    """Train AslNet from scratch on one or more class-folder datasets."""
    from asl.train.loop import train as run

    config = TrainConfig(data=list(data), holdout=list(holdout), out=out, **options)
    checkpoint = run(config, resume=resume, progress=not no_progress)
    click.echo(f"checkpoint: {checkpoint}")
