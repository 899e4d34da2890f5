"""What a model must say about itself: class names, input size and layout, where it came from.

The training checkpoint stores a ModelInfo, the export copies it into the ONNX file's
`metadata_props`, and the runtime reads it back, so nothing downstream re-guesses these values.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

PREFIX = "asl."


@dataclass
class ModelInfo:
    classes: list[str]
    input_size: int
    layout: str = "NHWC"           # the model input: batch, height, width, channels
    color_order: str = "BGR"       # OpenCV's order: what cv2.imread and VideoCapture give
    input_dtype: str = "uint8"     # raw pixels; scaling and normalisation are inside the model
    resize: str = "area"           # how the region of interest is brought to input_size
    pixel_mean: list[float] = field(default_factory=list)   # the in-graph normalisation, BGR, 0..255 units
    pixel_std: list[float] = field(default_factory=list)
    arch: str = ""
    precision: str = "fp32"
    train_data: list[dict] = field(default_factory=list)
    val_accuracy: dict[str, float] = field(default_factory=dict)
    parity: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelInfo":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_props(self) -> dict[str, str]:
        """ONNX metadata_props: one JSON value per key, under the `asl.` prefix."""
        return {PREFIX + k: json.dumps(v) for k, v in self.to_dict().items()}

    @classmethod
    def from_props(cls, props: dict[str, str]) -> "ModelInfo":
        data = {k[len(PREFIX):]: json.loads(v) for k, v in props.items() if k.startswith(PREFIX)}
        if "classes" not in data or "input_size" not in data:
            raise ValueError("the model carries no ASL metadata (class names, input size): export it with `asl export`")
        return cls.from_dict(data)
