"""Top-1, per-class precision/recall and the confusion matrix of a set of predictions (numpy only)."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def score(labels: np.ndarray, predictions: np.ndarray, classes: Sequence[str]) -> dict:
    """`{"top1", "n", "per_class": {name: {"n", "precision", "recall"}}, "confusion", "classes"}`.

    Per-class figures cover the classes present in `labels`; the confusion matrix (rows = truth)
    covers every class, so a wrong guess of an absent class still shows.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    k = len(classes)
    confusion = np.bincount(labels * k + predictions, minlength=k * k).reshape(k, k)
    predicted = confusion.sum(0)
    per_class = {}
    for c in np.unique(labels):
        tp = int(confusion[c, c])
        per_class[classes[c]] = {
            "n": int(confusion[c].sum()),
            "precision": tp / int(predicted[c]) if predicted[c] else 0.0,
            "recall": tp / int(confusion[c].sum()),
        }
    n = len(labels)
    return {
        "top1": float((labels == predictions).mean()) if n else 0.0,
        "n": n,
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "classes": list(classes),
    }


def format_table(result: dict, title: str = "") -> str:
    """A readable per-class table with the overall top-1 underneath."""
    lines = [title] if title else []
    lines.append(f"{'class':>8} {'n':>6} {'recall':>7} {'precision':>9}")
    for name, row in result["per_class"].items():
        lines.append(f"{name:>8} {row['n']:>6} {row['recall']:>7.1%} {row['precision']:>9.1%}")
    correct = round(result["top1"] * result["n"])
    lines.append(f"{'top-1':>8} {result['n']:>6} {result['top1']:>7.2%}   ({correct}/{result['n']} correct)")
    return "\n".join(lines)


def answers_where_found(found: np.ndarray, scores: np.ndarray, no_hand: int) -> np.ndarray:
    """Class indices for every picture: the best of `scores` (a row per picture with a hand, in order) where
    the tracker found a hand, `no_hand` (the `nothing` class) where it found none."""
    found = np.asarray(found, bool)
    answers = np.full(len(found), no_hand, np.int64)
    if found.any():
        answers[found] = np.asarray(scores).argmax(1)
    return answers
