"""Training curves and confusion matrices as PNG files (matplotlib, headless)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from asl.runtime.files import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")


def plot_curves(history: list[dict], path: Path) -> None:
    """Loss and every scored set's top-1 against the epoch."""
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    ax_loss.plot(epochs, [h["loss"] for h in history], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
    for key in [k for k in history[0] if ":" in k]:
        ax_acc.plot(epochs, [100 * h[key] for h in history], marker="o", label=key)
    ax_acc.set(xlabel="epoch", ylabel="top-1 %", title="accuracy", ylim=(0, 100))
    ax_acc.grid(alpha=0.3)
    ax_acc.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)


def plot_confusion(result: dict, path: Path, title: str = "") -> None:
    """Row-normalised confusion matrix (rows = true class) over the classes present."""
    plt = _pyplot()
    classes = result["classes"]
    confusion = np.asarray(result["confusion"], dtype=float)
    present = [i for i, c in enumerate(classes) if c in result["per_class"]]
    rows = confusion[present] / np.maximum(confusion[present].sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(present) + 2))
    im = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(present)), [classes[i] for i in present], fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(im, ax=ax, fraction=0.03)
    _save(fig, path)
    plt.close(fig)
