"""How far an exported model strays from the PyTorch one: top-1 agreement and max |Δ logit|."""
from __future__ import annotations

import numpy as np


def compare(reference: np.ndarray, candidate: np.ndarray, labels: np.ndarray | None = None) -> dict:
    """Agreement of argmax, the largest logit difference, and top-1 of both when labels are known."""
    result = {
        "n": int(len(reference)),
        "agreement": float((reference.argmax(1) == candidate.argmax(1)).mean()),
        "max_abs_logit_diff": float(np.abs(reference.astype(np.float64) - candidate).max()),
    }
    if labels is not None:
        result["top1"] = float((candidate.argmax(1) == labels).mean())
        result["reference_top1"] = float((reference.argmax(1) == labels).mean())
    return result


def describe(result: dict) -> str:
    text = f"agreement {result['agreement']:.2%} on {result['n']} images, max |Δlogit| {result['max_abs_logit_diff']:.2e}"
    if "top1" in result:
        text += f", top-1 {result['top1']:.2%} (PyTorch {result['reference_top1']:.2%})"
    return text
