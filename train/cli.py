"""`asl train`: a thin click layer over asl.train.loop."""
from __future__ import annotations

import json
from dataclasses import fields

import click

from asl.train.augment import AugmentConfig
from asl.train.loop import TrainConfig

_DEFAULTS = {f.name: f.default for f in fields(TrainConfig) if not callable(f.default_factory)}


def _option(name: str, help_text: str, **kwargs):
    return click.option("--" + name.replace("_", "-"), name, default=_DEFAULTS[name], show_default=True, help=help_text, **kwargs)


def _augment_config(overrides: tuple[str, ...]) -> AugmentConfig:
    known = {f.name: f for f in fields(AugmentConfig)}
    values = {}
    for item in overrides:
        name, _, text = item.partition("=")
        if name not in known or not text:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE with NAME one of {', '.join(known)}", param_hint="--aug")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise click.BadParameter(f"{item!r}: VALUE must be a number or a [low,high] pair", param_hint="--aug") from None
        values[name] = tuple(value) if isinstance(value, list) else value
    return AugmentConfig(**values)


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
@click.option("--aug", "augment", multiple=True, metavar="NAME=VALUE",
              help="Override an augmentation setting (repeatable), e.g. --aug skin_background=0.3 --aug zoom=[0.7,1.4].")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out from its last epoch.")
@click.option("--no-progress", is_flag=True, help="No progress bars (logs only).")
def train(data, holdout, out, augment, resume, no_progress, **options):
    """Train AslNet from scratch on one or more class-folder datasets."""
    from asl.train.loop import train as run

    config = TrainConfig(data=list(data), holdout=list(holdout), out=out, augment=_augment_config(augment), **options)
    checkpoint = run(config, resume=resume, progress=not no_progress)
    click.echo(f"checkpoint: {checkpoint}")
