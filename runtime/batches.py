"""Running a model over many images in slices: the one loop every stage (runtime, eval, export, bench) uses."""
from __future__ import annotations

from typing import Callable, Sequence, Union

import numpy as np

Outputs = Union[np.ndarray, Sequence[np.ndarray]]


def in_batches(run: Callable[[np.ndarray], Outputs], items: np.ndarray, size: int | None = None) -> Outputs:
    """`run` over consecutive slices of `items` (`size` at a time; all at once when None), outputs joined in order.

    `run` returns one array or a list of arrays (a graph with several outputs); so does this.
    """
    step = size or max(len(items), 1)
    parts = [run(items[i:i + step]) for i in range(0, len(items), step)]
    if not parts:
        return np.zeros((0, 0), np.float32)
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return [np.concatenate(column) for column in zip(*parts)]
