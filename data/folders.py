"""Find labelled images in a folder, whatever its nesting.

Two layouts are understood: class folders (`A/`, `del/`, `Nothing/` ... at any depth, as in the
Kaggle download `asl_alphabet_train/asl_alphabet_train/A/A1.jpg`) and Kaggle's flat test folder
(`A_test.jpg`, `nothing_test.jpg`). Anything else is counted as skipped, never fatal.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from asl.data.classes import CLASSES, class_index
from asl.runtime.errors import AslError
from asl.runtime.files import IMAGE_SUFFIXES, natural_key

_TEST_NAME = re.compile(r"^(?P<label>[^_]+)_test$", re.IGNORECASE)


class DataError(AslError, ValueError):
    """A data folder that cannot be used at all (missing, empty, no known classes)."""


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int


@dataclass
class ImageSet:
    """The labelled images under one folder, named after it."""

    name: str
    root: Path
    samples: list[Sample]
    skipped: Counter = field(default_factory=Counter)

    def class_counts(self) -> dict[str, int]:
        counts = Counter(s.label for s in self.samples)
        return {CLASSES[i]: counts[i] for i in sorted(counts)}

    def summary(self) -> str:
        return f"{self.name}: {len(self.samples)} images in {len(self.class_counts())} classes" + skipped_note(self.skipped)


def skipped_note(skipped: dict) -> str:
    """' (skipped 3 unreadable, 700 signed as another alphabet)', or '' when nothing was skipped."""
    return " (skipped " + ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) + ")" if skipped else ""


def _label_of(path: Path) -> int | None:
    label = class_index(path.parent.name)
    if label is None:
        match = _TEST_NAME.match(path.stem)
        label = class_index(match["label"]) if match else None
    return label


def find_images(root: str | os.PathLike, name: str | None = None) -> ImageSet:
    """Every labelled image under `root`, in frame order within each class.

    Raises DataError when the folder is missing or holds no labelled image.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data folder not found: {root}")
    samples: list[Sample] = []
    skipped: Counter = Counter()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in filenames:
            path = Path(dirpath) / filename
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            label = _label_of(path)
            if label is None:
                skipped["in unknown folders"] += 1
            else:
                samples.append(Sample(path, label))
    if not samples:
        raise DataError(f"no labelled images in {root} (expected class folders A..Z, del, nothing, space)")
    samples.sort(key=lambda s: (s.label, natural_key(s.path)))
    return ImageSet(name or root.name, root, samples, skipped)
