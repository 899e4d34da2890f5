"""PyTorch → ONNX: a pinned opset and IR version, full checker, onnxsim, metadata from the checkpoint."""
from __future__ import annotations

import copy
import io
import warnings

import onnx
import torch
from torch import nn

from asl.export.onnx_tools import IR_VERSION, OPSET, check, simplify  # noqa: F401  (re-exported)
from asl.runtime.metadata import ModelInfo
from asl.train.model import Preprocess

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
