"""`asl export`: every variant is built in memory, checked against PyTorch, and only then written.

A failed check or a bad argument leaves no file behind.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import onnx

from asl.data.arrays import PARITY_IMAGES, SetArrays, evenly, load_sets, parity_sample, pooled
from asl.export import graph, int8
from asl.export.fp16 import to_fp16
from asl.export.parity import compare, describe
from asl.runtime.errors import AslError
from asl.runtime.files import check_writable, write_together
from asl.runtime.recognizer import Recognizer
from asl.train.checkpoint import load_checkpoint
from asl.train.inference import predict_logits

log = logging.getLogger("asl")


class ExportError(AslError, RuntimeError):
    """An export that cannot be made or did not pass its checks."""


@dataclass
class ExportRequest:
    checkpoint: Path
    out: Path
    fp16: bool = False
    int8: bool = False
    calib: list[Path] = field(default_factory=list)   # class folders: calibration from train parts, gate on val parts
    data: list[Path] = field(default_factory=list)    # class folders for the parity check (default: calib); synthetic when none
    opset: int = graph.OPSET
    static_batch: bool = False
    calib_method: str = "auto"         # auto = measure all of int8.METHODS and keep the most accurate
    calib_images: int = 300
    max_parity_images: int = PARITY_IMAGES
    int8_max_drop: float = 0.005       # the gate: int8 top-1 may trail fp32 by at most this much
    force: bool = False
    seed: int = 0


PRECISIONS = ("fp32", "fp16", "int8")


def variant_path(out: Path, precision: str) -> Path:
    """`asl.onnx` → `asl.fp16.onnx` / `asl.int8.onnx`."""
    return out if precision == "fp32" else out.with_name(f"{out.stem}.{precision}{out.suffix}")


def export(req: ExportRequest) -> list[Path]:
    """Build, check and write the requested variants; returns the written paths."""
    model, info = load_checkpoint(req.checkpoint)
    size = info.input_size
    targets = {"fp32": req.out} | {p: variant_path(req.out, p) for p, on in (("fp16", req.fp16), ("int8", req.int8)) if on}
    for path in targets.values():
        check_writable(path)
    if req.int8 and not req.calib:
        raise ExportError("--int8 needs real images to calibrate on: pass --calib DATA_DIR")
    if req.calib_method != "auto" and req.calib_method not in int8.METHODS:
        raise ExportError(f"unknown calibration method {req.calib_method!r}: choose auto or one of {', '.join(int8.METHODS)}")
    rng = np.random.default_rng(req.seed)

    calib_sets = load_sets(req.calib, size) if req.calib else []
    parity_sets = load_sets(req.data, size) if req.data else calib_sets
    if parity_sets:
        images, labels = parity_sample(parity_sets, req.max_parity_images, rng)
        source = f"{len(labels)} validation images of {', '.join(s.name for s in parity_sets)}"
    else:
        images, labels = rng.integers(0, 256, (64, size, size, 3), dtype=np.uint8), None
        source = "64 synthetic images (pass --data for a check on real images)"
    reference = predict_logits(model, images)

    proto = graph.torch_to_onnx(model, size, req.opset, req.static_batch)
    proto, simplified = graph.simplify(proto, images[:8])
    graph.check(proto)
    log.info("graph: opset %d, IR %d, %s", req.opset, proto.ir_version, "simplified by onnxsim" if simplified else "not simplified")

    def measure(candidate: onnx.ModelProto, precision: str, label: str = "") -> dict:
        """Parity of `candidate` through the runtime itself, stamped into its metadata."""
        stamp(candidate, precision, {})
        result = compare(reference, Recognizer(candidate.SerializeToString(), provider="cpu").logits(images), labels)
        result["images"] = source
        stamp(candidate, precision, result)
        log.info("%s parity: %s", label or precision, describe(result))
        return result

    def stamp(candidate: onnx.ModelProto, precision: str, parity: dict) -> None:
        graph.set_metadata(candidate, replace(info, precision=precision, parity=parity))

    built = {"fp32": (proto, measure(proto, "fp32"))}
    if req.fp16:
        half = to_fp16(proto)
        built["fp16"] = (half, measure(half, "fp16"))
    if req.int8:
        candidate, result = _build_int8(req, proto, calib_sets, rng, measure, built["fp32"][1])
        stamp(candidate, "int8", result)
        built["int8"] = (candidate, result)

    for candidate, _ in built.values():
        graph.check(candidate)
    # A variant of an older export that this one does not replace would pair a new fp32 with an old int8.
    stale = [p for p in (variant_path(req.out, v) for v in PRECISIONS if v not in built) if p.exists()]
    for path in stale:
        log.info("removing %s: left from an older export, it does not belong with the new %s", path, req.out.name)
    return write_together({targets[p]: functools.partial(onnx.save, candidate) for p, (candidate, _) in built.items()}, stale)


def _build_int8(req: ExportRequest, proto: onnx.ModelProto, calib_sets: list[SetArrays], rng, measure, fp32_result: dict):
    """Quantize with each calibration method, keep the most accurate, and apply the accuracy gate."""
    pool, pool_labels = pooled(calib_sets, "train")
    calibration = pool[evenly(pool_labels, req.calib_images, rng)]
    methods = int8.METHODS if req.calib_method == "auto" else (req.calib_method,)
    trials = {}
    for method in methods:
        candidate = int8.quantize(proto, calibration, method)
        trials[method] = (candidate, measure(candidate, "int8", f"int8 ({method} calibration)"))
    key = "top1" if "top1" in fp32_result else "agreement"
    best = max(methods, key=lambda m: (trials[m][1][key], trials[m][1]["agreement"]))
    candidate, result = trials[best]
    summary = {m: round(trials[m][1][key], 6) for m in methods}
    log.info("int8 calibration, %s by method: %s → %s", key, ", ".join(f"{m} {v:.2%}" for m, v in summary.items()), best)
    result["calibration"] = {"method": best, "images": len(calibration), "candidates": summary}
    drop = fp32_result[key] - result[key]
    if drop > req.int8_max_drop and not req.force:
        raise ExportError(f"int8 {key} {result[key]:.2%} is {drop:.2%} below fp32 ({fp32_result[key]:.2%}), more than the "
                          f"allowed {req.int8_max_drop:.2%}: no int8 file written (use --force to write it anyway)")
    return candidate, result
