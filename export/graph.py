"""PyTorch → ONNX: a pinned opset and IR version, full checker, onnxsim, metadata from the checkpoint."""
from __future__ import annotations

import copy
import io
import logging
import warnings

import numpy as np
import onnx
import torch
from torch import nn

from asl.runtime.metadata import ModelInfo
from asl.train.model import Preprocess

log = logging.getLogger("asl")

# Opset 17 / IR 8 load in ONNX Runtime 1.14 and newer: JetPack 5's 1.16–1.18 wheels and the
# Raspberry Pi's PyPI builds alike.
OPSET = 17
IR_VERSION = 8
INPUT_NAME, OUTPUT_NAME = "pixels", "logits"


def torch_to_onnx(model: nn.Module, input_size: int, opset: int = OPSET, static_batch: bool = False) -> onnx.ModelProto:
    """Trace the model on a uint8 NHWC batch: the graph takes raw camera pixels."""
    model = copy.deepcopy(model).eval().to("cpu")
    for module in model.modules():
        if isinstance(module, Preprocess):
            module.expand_mean(input_size)
    example = torch.zeros(1, input_size, input_size, 3, dtype=torch.uint8)
    buffer = io.BytesIO()
    axes = None if static_batch else {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (example,), buffer, dynamo=False, opset_version=opset, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_axes=axes, do_constant_folding=True)
    proto = onnx.load_from_string(buffer.getvalue())
    proto.ir_version = min(proto.ir_version, IR_VERSION)
    return proto


def _run(proto: onnx.ModelProto, images: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    name, batch = session.get_inputs()[0].name, session.get_inputs()[0].shape[0]
    step = batch if isinstance(batch, int) else len(images)
    return np.concatenate([session.run(None, {name: images[i:i + step]})[0] for i in range(0, len(images), step)])


def simplify(proto: onnx.ModelProto, probe: np.ndarray) -> tuple[onnx.ModelProto, bool]:
    """onnxsim, kept only if it checks and gives the same outputs on `probe`; else the input graph, with a warning."""
    try:
        import onnxsim

        simplified, ok = onnxsim.simplify(proto)
        if not ok:
            raise RuntimeError("onnxsim's own check failed")
        before, after = _run(proto, probe), _run(simplified, probe)
        if not np.allclose(before, after, atol=1e-5, rtol=1e-4):
            raise RuntimeError(f"outputs changed by up to {np.abs(before - after).max():.2e}")
    except Exception as err:
        log.warning("onnxsim simplification skipped (%s); keeping the unsimplified graph", str(err).splitlines()[0])
        return proto, False
    simplified.ir_version = min(simplified.ir_version, IR_VERSION)
    return simplified, True


def set_metadata(proto: onnx.ModelProto, info: ModelInfo) -> onnx.ModelProto:
    """Replace the model's `asl.*` metadata_props with `info`; other keys stay."""
    keep = [p for p in proto.metadata_props if not p.key.startswith("asl.")]
    del proto.metadata_props[:]
    proto.metadata_props.extend(keep)
    onnx.helper.set_model_props(proto, {**{p.key: p.value for p in keep}, **info.to_props()})
    proto.producer_name = "asl-edge"
    proto.doc_string = (f"ASL alphabet classifier. Input '{INPUT_NAME}': uint8 {info.layout} {info.color_order}, "
                        f"{info.input_size}x{info.input_size} (resize the region of interest, nothing else). "
                        f"Output '{OUTPUT_NAME}': {len(info.classes)} logits in the order of metadata 'asl.classes'.")
    return proto


def check(proto: onnx.ModelProto) -> None:
    onnx.checker.check_model(proto, full_check=True)
