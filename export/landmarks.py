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
from asl.runtime.landmark_classifier import EMBEDDING_NAME, FUSION_WEIGHT, HIDDEN_NAME, INPUT_NAME, METADATA_KEY, OUTPUT_NAME
from asl.train.landmarks import load_landmark_checkpoint


class LandmarkExportError(AslError, RuntimeError):
    """A landmark export that strays from PyTorch."""


class _LogitsAndHidden(torch.nn.Module):
    """The exported graph's two outputs: the logits, and the last hidden layer a signer profile reads."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, *inputs):
        hidden = self.net.hidden(*inputs)
        return self.net.net[-1](hidden), hidden


def export_landmarks(checkpoint: Path, out: Path, fusion_weight: float = FUSION_WEIGHT,
                     inputs: tuple[np.ndarray, ...] | None = None) -> dict:
    """Write the ONNX file; returns its parity with PyTorch (on `inputs`: features and, when the classifier
    reads one, embeddings; or on random ones)."""
    check_writable(out)
    net, info = load_landmark_checkpoint(checkpoint)
    widths = (FEATURES, net.embedding_size) if net.embedding_size else (FEATURES,)
    if inputs is None:
        rng = np.random.default_rng(0)
        inputs = (rng.normal(0, 0.5, (256, FEATURES)).astype(np.float32),   # embeddings: pooled ReLU6 outputs, ≥ 0
                  np.abs(rng.normal(0, 0.5, (256, net.embedding_size))).astype(np.float32))[:len(widths)]
    names = [INPUT_NAME, EMBEDDING_NAME][:len(widths)]
    exported = _LogitsAndHidden(net).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(exported, tuple(torch.zeros(1, w) for w in widths), buffer, dynamo=False,
                          opset_version=OPSET, input_names=names, output_names=[OUTPUT_NAME, HIDDEN_NAME],
                          dynamic_axes={name: {0: "batch"} for name in (*names, OUTPUT_NAME, HIDDEN_NAME)})
    proto = onnx.load_from_string(buffer.getvalue())
    proto.ir_version = min(proto.ir_version, IR_VERSION)
    proto, _ = simplify(proto, inputs)
    check(proto)
    with torch.no_grad():
        reference, reference_hidden = (t.numpy() for t in exported(*map(torch.from_numpy, inputs)))
    logits, hidden = run_outputs(proto, inputs)
    parity = compare(reference, logits)
    hidden_diff = float(np.abs(reference_hidden - hidden).max())
    if parity["agreement"] < 1.0 or parity["max_abs_logit_diff"] > 1e-3 or hidden_diff > 1e-3:
        raise LandmarkExportError(f"ONNX strays from PyTorch (agreement {parity['agreement']:.2%}, max |Δlogit| "
                                  f"{parity['max_abs_logit_diff']:.1e}, max |Δhidden| {hidden_diff:.1e}): nothing written")
    meta = {**info, "fusion_weight": fusion_weight, "parity": parity}
    onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(meta)})
    proto.producer_name = "asl-edge"
    proto.doc_string = (f"ASL landmark classifier. Input '{INPUT_NAME}': float32 N×{FEATURES} "
                        "(asl.runtime.hand_features.landmark_features)"
                        + (f"; '{EMBEDDING_NAME}': float32 N×{net.embedding_size}, the hand landmark model's embedding "
                           "as a right hand gives it (asl.runtime.hand_features.as_right_hand)" if net.embedding_size else "")
                        + f". Outputs: '{OUTPUT_NAME}' in the order of 'classes'; '{HIDDEN_NAME}', the last hidden layer "
                        "(asl.runtime.signer_profile).")
    with atomic_path(out) as tmp:
        onnx.save(proto, os.fspath(tmp))
    return parity
