"""Leak-free train/validation split for sets made of consecutive video frames.

A random split puts frame N in training and frame N+1 in validation, which measures memory,
not recognition. Here validation is the last block of each class's frame sequence.
"""
from __future__ import annotations

from collections import defaultdict

from asl.data.folders import DataError, Sample


def frame_block_split(samples: list[Sample], val_fraction: float = 0.2) -> tuple[list[int], list[int]]:
    """Indices of (train, val): per class, the last `val_fraction` of frames (in order) go to val.

    `samples` must be in frame order within each class, as `find_images` returns them.
    The split is a pure function of the file names, so it is the same on every run and machine.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise DataError(f"the validation share must be at least 0 and below 1, not {val_fraction}")
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, sample in enumerate(samples):
        by_class[sample.label].append(i)
    train, val = [], []
    for indices in by_class.values():
        n_val = int(round(len(indices) * val_fraction))
        cut = len(indices) - n_val
        train += indices[:cut]
        val += indices[cut:]
    return sorted(train), sorted(val)
