"""The 29 canonical classes, in output order: the Kaggle "ASL Alphabet" layout.

This is the only place the class list is written down; checkpoints and ONNX files carry a copy.
"""
from __future__ import annotations

CLASSES: tuple[str, ...] = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ("del", "nothing", "space")
NUM_CLASSES = len(CLASSES)

_BY_LOWER = {name.lower(): i for i, name in enumerate(CLASSES)}


def class_index(name: str) -> int | None:
    """Index of a class folder or file-name prefix, matched case-insensitively; None if unknown."""
    return _BY_LOWER.get(name.strip().lower())
