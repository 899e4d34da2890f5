"""The bundled models: `asl.pt` (checkpoint), `asl.onnx` (fp32) and `asl.int8.onnx` (int8, the default)."""
from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
CHECKPOINT = MODELS_DIR / "asl.pt"
FP32 = MODELS_DIR / "asl.onnx"
INT8 = MODELS_DIR / "asl.int8.onnx"


def default_model_path() -> Path:
    """The int8 model when it shipped (it only ships after passing its accuracy gate), else fp32."""
    return INT8 if INT8.is_file() else FP32
