"""ONNX Runtime backends, through the runtime's own Recognizer (the path users run)."""
from __future__ import annotations

import os
from pathlib import Path

from asl.benchmarks.backend import Backend
from asl.runtime.recognizer import Recognizer


def onnx_backend(model: str | os.PathLike | bytes, label: str, provider: str, threads: int) -> Backend:
    recognizer = Recognizer(model, provider=provider, threads=threads, strict=True)
    size = len(model) if isinstance(model, bytes) else Path(model).stat().st_size
    precision = recognizer.info.precision
    return Backend(f"{label} ONNX {precision} {recognizer.provider}", label, "ONNX Runtime", precision, recognizer.provider,
                   threads, recognizer.input_size, size, recognizer.logits, recognizer.prepare)
