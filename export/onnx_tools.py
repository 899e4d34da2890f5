"""Checks every exported graph goes through, torch-free: the pinned opset, onnx.checker and onnxsim."""
from __future__ import annotations

import logging

import numpy as np
import onnx

from asl.runtime.batches import in_batches

log = logging.getLogger("asl")

# Opset 17 / IR 8 load in ONNX Runtime 1.14 and newer: JetPack 5's 1.16–1.18 wheels and the
# Raspberry Pi's PyPI builds alike.
OPSET = 17
IR_VERSION = 8


def run_outputs(proto: onnx.ModelProto, batch: np.ndarray | tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Every output of `proto` on `batch` (a tuple: one array per graph input, in order), fed in slices
    when the graph's batch size is fixed."""
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    arrays = batch if isinstance(batch, tuple) else (batch,)
    names, size = [i.name for i in session.get_inputs()], session.get_inputs()[0].shape[0]
    return in_batches(lambda rows: session.run(None, {name: a[rows] for name, a in zip(names, arrays)}),
                      np.arange(len(arrays[0])), size if isinstance(size, int) else None)


def simplify(proto: onnx.ModelProto, probe: np.ndarray) -> tuple[onnx.ModelProto, bool]:
    """onnxsim, kept only if it checks and gives the same outputs on `probe`; else the input graph, with a warning."""
    try:
        import onnxsim

        simplified, ok = onnxsim.simplify(proto)
        if not ok:
            raise RuntimeError("onnxsim's own check failed")
        for before, after in zip(run_outputs(proto, probe), run_outputs(simplified, probe)):
            if not np.allclose(before, after, atol=1e-5, rtol=1e-4):
                raise RuntimeError(f"outputs changed by up to {np.abs(before - after).max():.2e}")
    except Exception as err:
        log.warning("onnxsim simplification skipped (%s); keeping the unsimplified graph", str(err).splitlines()[0])
        return proto, False
    simplified.ir_version = min(simplified.ir_version, IR_VERSION)
    return simplified, True


def check(proto: onnx.ModelProto) -> None:
    onnx.checker.check_model(proto, full_check=True)
