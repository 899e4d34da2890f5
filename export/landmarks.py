"""`asl export-landmarks`: the landmark classifier to ONNX, checked against PyTorch before it is written."""
from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from asl.export.onnx_tools import IR_VERSION, OPSET, check, run_outputs, simplify
from asl.export.parity import compare
from asl.runtime.errors import AslError
from asl.runtime.files import atomic_path, check_writable
from asl.runtime.hand_features import FEATURES
from asl.runtime.landmark_classifier import FUSION_WEIGHT, INPUT_NAME, METADATA_KEY, OUTPUT_NAME
from asl.train.landmarks import load_landmark_checkpoint


class LandmarkExportError(AslError, RuntimeError):
    """A landmark export that strays from PyTorch."""


def export_landmarks(checkpoint: Path, out: Path, fusion_weight: float = FUSION_WEIGHT, features: np.ndarray | None = None) -> dict:
    """Write the ONNX file; returns its parity with PyTorch (on `features`, or on random shapes)."""
    check_writable(out)
    net, info = load_landmark_checkpoint(checkpoint)
    if features is None:
        features = np.random.default_rng(0).normal(0, 0.5, (256, FEATURES)).astype(np.float32)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, FEATURES),), buffer, dynamo=False, opset_version=OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    proto = onnx.load_from_string(buffer.getvalue())
    proto.ir_version = min(proto.ir_version, IR_VERSION)
    proto, _ = simplify(proto, features[:8])
    check(proto)
    with torch.no_grad():
        reference = net(torch.from_numpy(features)).numpy()
    parity = compare(reference, run_outputs(proto, features)[0])
    if parity["agreement"] < 1.0 or parity["max_abs_logit_diff"] > 1e-3:
        raise LandmarkExportError(f"ONNX strays from PyTorch (agreement {parity['agreement']:.2%}, "
                                  f"max |Δlogit| {parity['max_abs_logit_diff']:.1e}): nothing written")
    meta = {**info, "fusion_weight": fusion_weight, "parity": parity}
    onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(meta)})
    proto.producer_name = "asl-edge"
    proto.doc_string = (f"ASL landmark classifier. Input '{INPUT_NAME}': float32 N×{FEATURES} "
                        "(asl.runtime.hand_features.landmark_features). Output: logits in the order of 'classes'.")
    with atomic_path(out) as tmp:
        onnx.save(proto, os.fspath(tmp))
    return parity
