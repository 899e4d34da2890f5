"""`asl train`: a thin click layer over asl.train.loop."""
from __future__ import annotations

import json
import re
from dataclasses import fields

import click

from asl.data.hand_cache import CROP_SIZE
from asl.runtime.errors import AslError
from asl.runtime.providers import MAX_THREADS
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
        default = known[name].default if not callable(known[name].default_factory) else None
        pair = isinstance(default, tuple)
        ok = (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) and v > 0 for v in value)
              if pair else isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0)
        if not ok:
            wanted = "a [low,high] pair of positive numbers" if pair else "a number, 0 or more"
            raise click.BadParameter(f"{item!r}: {name} takes {wanted}", param_hint="--aug")
        values[name] = tuple(value) if pair else value
    return AugmentConfig(**values)


def _device(ctx, param, value: str) -> str:
    """The spelling only (auto, cpu, cuda, cuda:N, mps); whether that device exists is checked when the run starts."""
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value.strip().lower()):
        raise click.BadParameter(f"{value!r}: expected auto, cpu, cuda, cuda:N or mps")
    return value.strip().lower()


@click.command()
@click.option("--data", multiple=True, required=True, type=click.Path(),
              help="Class-folder dataset to train on (repeatable); its last frames of each class are validation.")
@click.option("--holdout", multiple=True, type=click.Path(),
              help="Dataset scored every epoch but never trained on (repeatable): leave-one-set-out.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the checkpoint asl.pt, metrics.json and plots.")
@_option("epochs", "Training epochs.", type=click.IntRange(1, 10_000))
@_option("batch_size", "Images per step.", type=click.IntRange(1, 65_536))
@_option("lr", "Peak AdamW learning rate (warm-up, then cosine decay).", type=click.FloatRange(0, 10, min_open=True))
@_option("input_size", "Model input size in pixels (square).", type=click.IntRange(16, 1024))
@_option("width", "Channel width multiplier of AslNet.", type=click.FloatRange(0.1, 8))
@_option("expand", "Expansion factor of AslNet's inverted residual blocks.", type=click.IntRange(1, 16))
@_option("val_fraction", "Share of each class's last frames held out for validation.", type=click.FloatRange(0, 1, max_open=True))
@_option("seed", "Random seed (sampling, augmentation, initialisation).", type=click.IntRange(0))
@_option("device", "auto, cpu, cuda or cuda:N.", callback=_device)
@click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=None,
              help=f"CPU threads for torch (1..{MAX_THREADS}; default: all cores).")
@click.option("--bf16", is_flag=True, help="bfloat16 autocast in the training forward pass (CUDA only; an error on CPU).")
@click.option("--aug", "augment", multiple=True, metavar="NAME=VALUE",
              help="Override an augmentation setting (repeatable), e.g. --aug skin_background=0.3 --aug zoom=[0.7,1.4].")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out from its last epoch.")
@click.option("--no-progress", is_flag=True, help="No progress bars (logs only).")
def train(data, holdout, out, augment, resume, no_progress, **options):
    """Train AslNet from scratch on one or more class-folder datasets.

    Under `torchrun --nproc-per-node N -m asl.train` each of N processes trains on its own share of
    every batch (DDP; --batch-size is per process) and rank 0 alone logs and writes.
    """
    from asl.runtime.cli import progress_bars
    from asl.train import distributed
    from asl.train.loop import train as run

    config = TrainConfig(data=list(data), holdout=list(holdout), out=out, augment=_augment_config(augment), **options)
    try:
        checkpoint = run(config, resume=resume, progress=None if no_progress else progress_bars())
    except AslError as err:  # one line, also when started as `python -m asl.train` (outside the `asl` group)
        raise click.ClickException(str(err)) from None
    if distributed.is_main():
        click.echo(f"checkpoint: {checkpoint}")


@click.command("train-landmarks")
@click.option("--data", multiple=True, required=True, type=click.Path(exists=True, file_okay=False),
              help="Class-folder dataset (repeatable); its last frames of each class are validation.")
@click.option("--holdout", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Dataset scored whole but never trained on (repeatable): leave-one-set-out.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for landmarks.pt and its metrics.")
@click.option("--epochs", type=click.IntRange(1, 1000), default=30, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--embedding/--no-embedding", default=True, show_default=True,
              help="Also read the hand landmark model's embedding of the hand (a second landmark-model run for left hands).")
def train_landmarks(data, holdout, out, epochs, seed, embedding):
    """Train the landmark classifier (the hand's shape, from the tracker) on class-folder datasets."""
    from asl.runtime.cli import progress_bars
    from asl.train.landmarks import LandmarkConfig
    from asl.train.landmarks import train_landmarks as run

    config = LandmarkConfig(data=list(data), holdout=list(holdout), out=out, epochs=epochs, seed=seed, embedding=embedding)
    checkpoint = run(config, progress=progress_bars())
    click.echo(f"checkpoint: {checkpoint}")


@click.command("hand-crops")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the crops, one subfolder per class.")
@click.option("--every", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Keep every N-th picture (frame order kept), to make a smaller set.")
@click.option("--size", type=click.IntRange(16, 512), default=CROP_SIZE, show_default=True, help="Crop size in pixels.")
def hand_crops(data_dir, out, every, size):
    """Write the hand crops the runtime classifies (tracked hand, crop around its landmarks) as a class-folder set,
    for training the crop classifier with `asl train` on exactly what it will see. Pictures with no hand are left out."""
    from asl.data.hand_cache import load_hand_set, write_crops
    from asl.runtime.cli import progress_bars
    from asl.runtime.files import check_output_dir
    from asl.runtime.recognizer import CROP_MARGIN
    from asl.runtime.tracker import HandTracker

    check_output_dir(out)
    hand_set = load_hand_set(data_dir, HandTracker(provider="cpu", threads=1), size, CROP_MARGIN, progress=progress_bars())
    written = write_crops(hand_set, out, every)
    click.echo(f"wrote {written} crops of {len(hand_set.labels)} pictures "
               f"(hand found in {hand_set.hands.found.mean():.1%}) into {out}")
