"""A data folder as arrays ready for a model: decoded images, labels, and the frame-block split."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl.data.cache import decode_set
from asl.data.folders import DataError, find_images, skipped_note
from asl.data.split import training_parts
from asl.runtime.progress import Progress


@dataclass
class SetArrays:
    name: str
    root: Path
    images: np.ndarray       # N×S×S×3 uint8 BGR, exactly what the runtime feeds the model
    labels: np.ndarray       # N int64 indices into CLASSES
    train: np.ndarray        # indices of the training part
    val: np.ndarray          # indices of the validation part (last frames of each class)
    skipped: Counter

    def summary(self, held_out: bool = False) -> str:
        split = "held out (scored, never trained on)" if held_out else f"{len(self.train)} train / {len(self.val)} val"
        text = f"{self.name}: {len(self.labels)} images, {len(np.unique(self.labels))} classes, {split}"
        return text + skipped_note(self.skipped)


def load_set(root: str | os.PathLike, size: int, val_fraction: float = 0.2, name: str | None = None,
             cache_dir: Path | None = None, progress: Progress | None = None, held_out: bool = False) -> SetArrays:
    image_set = find_images(root, name)
    images, labels, kept = decode_set(image_set, size, cache_dir, progress)
    if len(kept) == 0:
        raise DataError(f"no readable images in {root}")
    train, val = training_parts(image_set, list(kept), val_fraction, held_out)
    return SetArrays(image_set.name, Path(root), images, labels, np.array(train, np.int64), np.array(val, np.int64),
                     image_set.skipped)


def load_sets(roots: list, size: int, val_fraction: float = 0.2, cache_dir: Path | None = None,
              progress: Progress | None = None, held_out: bool = False) -> list[SetArrays]:
    """Several folders at once, each named after its folder (made unique when two share a name)."""
    names = [Path(r).resolve().name for r in roots]
    sets = []
    for root, name in zip(roots, names):
        if names.count(name) > 1:
            name = f"{Path(root).resolve().parent.name}-{name}"
        sets.append(load_set(root, size, val_fraction, name, cache_dir, progress, held_out))
    return sets


# How many validation images parity is measured on, by the export's int8 gate and by `asl bench` alike.
PARITY_IMAGES = 1500


def pooled(sets: list[SetArrays], part: str) -> tuple[np.ndarray, np.ndarray]:
    """The `train` or `val` part of several sets as one (images, labels) pair."""
    return (np.concatenate([s.images[getattr(s, part)] for s in sets]),
            np.concatenate([s.labels[getattr(s, part)] for s in sets]))


def evenly(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `count` indices into `labels`, spread evenly over the classes present."""
    classes = np.unique(labels)
    per_class = -(-count // len(classes))
    picked = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in classes])
    return np.sort(rng.permutation(picked)[:count])


def parity_sample(sets: list[SetArrays], count: int = PARITY_IMAGES,
                  rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The validation images parity is measured on: up to `count`, evenly over the classes, drawn by `rng`
    (seed 0 when None). The export and the benchmark draw the same images, so their figures agree."""
    images, labels = pooled(sets, "val")
    chosen = evenly(labels, count, np.random.default_rng(0) if rng is None else rng)
    return images[chosen], labels[chosen]
