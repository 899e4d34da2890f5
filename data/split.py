"""Leak-free train/validation split for sets made of consecutive video frames.

A random split puts frame N in training and frame N+1 in validation, which measures memory,
not recognition. Here validation is the last block of each class's frame sequence.

A set's letters that its signer makes as another manual alphabet does (`OTHER_ALPHABET`) go to
neither part: such a label teaches the model a second answer for another ASL letter's handshape.
Held-out sets are scored whole, so they keep them.
"""
from __future__ import annotations

from collections import defaultdict

from asl.data.classes import CLASSES
from asl.data.folders import DataError, ImageSet, Sample

# grey_wall's signer makes 14 of the 26 letters as another alphabet does (D a fist, H two fingers up as ASL U,
# I the index up as ASL D, U an open hand, X crossed fingers as ASL R, T the horns, ...): a model trained on
# the other nine sets reads each as one other ASL letter on nearly all 50 pictures. Leaving them out of
# training lifted leave-one-set-out on the other nine sets from 88.6% to 89.7% (3 seeds; dark_skin_wall +4.3).
OTHER_ALPHABET: dict[str, frozenset[str]] = {"grey_wall": frozenset("D E F H I J K Q R S T U X Z".split())}
LEFT_OUT = "signed as another alphabet"   # the reason counted in a set's `skipped`


def frame_block_split(samples: list[Sample], val_fraction: float = 0.2,
                      set_name: str | None = None) -> tuple[list[int], list[int]]:
    """Indices of (train, val): per class, the last `val_fraction` of frames (in order) go to val;
    the classes `OTHER_ALPHABET` lists for `set_name` go to neither.

    `samples` must be in frame order within each class, as `find_images` returns them.
    The split is a pure function of the file names, so it is the same on every run and machine.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise DataError(f"the validation share must be at least 0 and below 1, not {val_fraction}")
    left_out = {CLASSES.index(name) for name in OTHER_ALPHABET.get(set_name or "", ())}
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, sample in enumerate(samples):
        if sample.label not in left_out:
            by_class[sample.label].append(i)
    train, val = [], []
    for indices in by_class.values():
        n_val = int(round(len(indices) * val_fraction))
        cut = len(indices) - n_val
        train += indices[:cut]
        val += indices[cut:]
    return sorted(train), sorted(val)


def training_parts(image_set: ImageSet, kept: list[int], val_fraction: float,
                   held_out: bool = False) -> tuple[list[int], list[int]]:
    """(train, val) positions in `kept` (the readable samples' indices): the frame-block split with the set's
    other-alphabet letters left out and counted in `image_set.skipped`; a held-out set is all one part, whole."""
    if held_out:
        return list(range(len(kept))), []
    train, val = frame_block_split([image_set.samples[i] for i in kept], val_fraction, image_set.name)
    if len(kept) > len(train) + len(val):
        image_set.skipped[LEFT_OUT] = len(kept) - len(train) - len(val)
    return train, val
