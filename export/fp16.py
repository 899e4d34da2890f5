"""Half-precision weights for GPU providers; the uint8 input and float32 logits stay as documented."""
from __future__ import annotations

import logging
import warnings

import onnx

log = logging.getLogger("asl")


def to_fp16(proto: onnx.ModelProto) -> onnx.ModelProto:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("onnxruntime.transformers.float16").setLevel(logging.ERROR)
        half = convert_float_to_float16(proto, keep_io_types=True, disable_shape_infer=False)
    return half
