"""What a model must say about itself: class names, input size and layout, where it came from.

The training checkpoint stores a ModelInfo, the export copies it into the ONNX file's
`metadata_props`, and the runtime reads it back, so nothing downstream re-guesses these values.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from asl.runtime.errors import AslError

PREFIX = "asl."
# What the runtime feeds every model (asl.runtime.image.to_model_input): a model must ask for exactly this.
RUNTIME_INPUT = {"layout": "NHWC", "color_order": "BGR", "input_dtype": "uint8", "resize": "area"}


class MetadataError(AslError, ValueError):
    """A model without our metadata, or whose graph does not fit it."""


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
            raise MetadataError("the model carries no ASL metadata (class names, input size): export it with `asl export`")
        return cls.from_dict(data)


def check_model(session, info: ModelInfo) -> None:
    """Fail in one line unless an ONNX Runtime session's graph takes and gives what `info` says.

    A model whose input is another size or layout, or whose output has another number of classes,
    would otherwise run and answer with wrong labels.
    """
    if not (isinstance(info.classes, list) and info.classes and all(isinstance(c, str) for c in info.classes)
            and len(set(info.classes)) == len(info.classes)):
        raise MetadataError(f"the model's class names are not a list of distinct names: {info.classes!r}")
    if not isinstance(info.input_size, int) or info.input_size < 1:
        raise MetadataError(f"the model's input size is not a positive whole number: {info.input_size!r}")
    for key, supplied in RUNTIME_INPUT.items():
        if getattr(info, key) != supplied:
            raise MetadataError(f"the model asks for {key} {getattr(info, key)!r}; the runtime supplies {supplied!r}")
    inputs, outputs = session.get_inputs(), session.get_outputs()
    size = info.input_size
    if len(inputs) != 1 or inputs[0].type != "tensor(uint8)" or len(inputs[0].shape) != 4 or any(
            isinstance(got, int) and got != want for got, want in zip(inputs[0].shape[1:], (size, size, 3))):
        got = ", ".join(f"{i.type} {i.shape}" for i in inputs)
        raise MetadataError(f"the model's input ({got}) is not the uint8 N×{size}×{size}×3 (NHWC BGR) its metadata says")
    classes = outputs[0].shape[-1] if outputs and outputs[0].shape else None
    if len(outputs[0].shape) != 2 or (isinstance(classes, int) and classes != len(info.classes)):
        raise MetadataError(f"the model's output {outputs[0].shape} does not give one score for each of its "
                            f"{len(info.classes)} class names")
