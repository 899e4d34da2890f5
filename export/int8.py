"""Static int8 quantization with ONNX Runtime: QDQ, per-channel weights, calibrated on real images.

The calibration method is chosen by measurement: each candidate is quantized and scored on
validation images the calibration never saw, and the most accurate wins.
"""
from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx

log = logging.getLogger("asl")

METHODS = ("minmax", "entropy", "percentile")


class _Batches:
    """onnxruntime's CalibrationDataReader protocol over an image array (equal batches: the histogram
    calibrators cannot merge a short last batch)."""

    def __init__(self, input_name: str, images: np.ndarray, batch: int = 1):
        self.chunks = iter([{input_name: images[i:i + batch]} for i in range(0, len(images), batch)])

    def get_next(self):
        return next(self.chunks, None)


def quantize(proto: onnx.ModelProto, calibration: np.ndarray, method: str) -> onnx.ModelProto:
    """QDQ int8 calibrated with `method` on uint8 NHWC images: uint8 activations, per-channel int8 weights.

    U8S8 rather than ONNX Runtime's usual S8S8 because with it every convolution, depthwise ones
    included, fuses into QLinearConv on x86 (S8S8 left the depthwise convolutions in float between
    Dequantize/Quantize pairs there, which made the int8 model slower); the accuracy gate guards
    against the U8S8 saturation that non-VNNI x86 can show.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    calibrate = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                 "percentile": CalibrationMethod.Percentile}[method]
    with tempfile.TemporaryDirectory(prefix="asl-int8-") as tmp, contextlib.redirect_stdout(io.StringIO()):
        source, prepared, quantized = Path(tmp, "fp32.onnx"), Path(tmp, "prepared.onnx"), Path(tmp, "int8.onnx")
        onnx.save(proto, source)
        # ONNX Runtime's own shape inference and graph optimisation, as its quantization docs advise.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(quantized), _Batches(proto.graph.input[0].name, calibration),
            quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, calibrate_method=calibrate, reduce_range=True,
            extra_options={"CalibPercentile": 99.99, "CalibTensorRangeSymmetric": False},
        )
        result = onnx.load(str(quantized))
    for prop in proto.metadata_props:
        result.metadata_props.add(key=prop.key, value=prop.value)
    return result
