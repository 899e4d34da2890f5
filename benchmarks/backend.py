"""The one small interface every benchmarked model sits behind."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Backend:
    """A model ready to run: `logits` takes an N×S×S×3 uint8 batch at `input_size`."""

    name: str                       # e.g. "AslNet ONNX int8"
    model: str                      # "AslNet" or "seed CNN"
    runtime: str                    # "PyTorch" or "ONNX Runtime"
    precision: str                  # fp32, fp16, int8
    provider: str                   # cpu, cuda, tensorrt
    threads: int
    input_size: int
    size_bytes: int
    logits: Callable[[np.ndarray], np.ndarray]
    prepare: Callable[[np.ndarray], np.ndarray] | None = None   # camera frame → model input (ROI + resize)
