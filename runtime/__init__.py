"""The lean runtime: ONNX Runtime, numpy and OpenCV only (never torch). What an edge device installs.

Heavy modules load on first use, so `import asl.runtime` and `asl --help` stay instant.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Recognizer": "asl.runtime.recognizer",
    "Prediction": "asl.runtime.recognizer",
    "ModelError": "asl.runtime.recognizer",
    "ProviderError": "asl.runtime.providers",
    "ModelInfo": "asl.runtime.metadata",
    "Roi": "asl.runtime.image",
    "parse_roi": "asl.runtime.image",
    "read_image": "asl.runtime.image",
    "ImageError": "asl.runtime.image",
    "Speller": "asl.runtime.spelling",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'asl.runtime' has no attribute {name!r}")
