"""`asl export-hands`: MediaPipe's palm detector and hand landmark models, TFLite → checked ONNX.

The TFLite files come from the `mediapipe==0.10.21` wheel (Apache-2.0). tf2onnx converts them;
the tensors get names the runtime addresses (`image` in; `boxes`, `scores` or `landmarks`,
`presence`, `handedness`, `world_landmarks` out), onnxsim simplifies, and each graph is run beside
the TFLite interpreter on real pictures before it is written. The landmark models also give the
pooled features all four of their heads read (`embedding`), which the landmark classifier reads
beside the joints. Only this step needs TensorFlow.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import onnx

from asl.export.onnx_tools import IR_VERSION, OPSET, check, run_outputs, simplify
from asl.runtime.errors import AslError
from asl.runtime.files import atomic_path, check_output_dir
from asl.runtime.hand_landmarks import EMBEDDING as EMBEDDING_OUTPUT
from asl.runtime.hand_roi import warp, whole_frame
from asl.runtime.tracker import HAND_MODEL_KEY, VARIANTS

log = logging.getLogger("asl")

MEDIAPIPE_VERSION = "0.10.21"
# kind → (input size, the TFLite outputs in order → our names)
KINDS = {
    "palm_detection": (192, {"Identity": "boxes", "Identity_1": "scores"}),
    "hand_landmark": (224, {"Identity": "landmarks", "Identity_1": "presence", "Identity_2": "handedness",
                            "Identity_3": "world_landmarks"}),
}
INPUT_NAME = "image"


class HandExportError(AslError, RuntimeError):
    """A conversion that cannot run or whose result strays from the TFLite original."""


@dataclass
class HandExportRequest:
    out_dir: Path
    source_dir: Path | None = None                 # holds palm_detection/*.tflite and hand_landmark/*.tflite
    images: list[np.ndarray] = field(default_factory=list)  # real BGR pictures for the parity check
    variants: tuple[str, ...] = VARIANTS
    tolerance: float = 1e-3                        # max |Δ| allowed, relative to the output's magnitude


def mediapipe_modules() -> Path:
    """The `mediapipe/modules` folder of the installed wheel."""
    try:
        import mediapipe
    except ImportError:
        raise HandExportError(f"`asl export-hands` converts the models of mediapipe=={MEDIAPIPE_VERSION}: "
                              "pip install 'asl-edge[hands]' (or pass --source DIR)") from None
    version = getattr(mediapipe, "__version__", "?")
    if version != MEDIAPIPE_VERSION:
        log.warning("mediapipe %s installed; the shipped models come from %s", version, MEDIAPIPE_VERSION)
    return Path(mediapipe.__file__).parent / "modules"


def _rename(proto: onnx.ModelProto, names: dict[str, str]) -> None:
    for value in list(proto.graph.input) + list(proto.graph.output):
        value.name = names.get(value.name, value.name)
    for node in proto.graph.node:
        node.input[:] = [names.get(n, n) for n in node.input]
        node.output[:] = [names.get(n, n) for n in node.output]


def convert(tflite: Path, kind: str) -> onnx.ModelProto:
    """tf2onnx on one TFLite file, with our tensor names."""
    try:
        import tf2onnx
    except ImportError:
        raise HandExportError("tf2onnx is not installed: pip install 'asl-edge[hands]'") from None
    proto, _ = tf2onnx.convert.from_tflite(str(tflite), opset=OPSET)
    _, outputs = KINDS[kind]
    _rename(proto, {proto.graph.input[0].name: INPUT_NAME, **outputs})
    proto.ir_version = min(proto.ir_version, IR_VERSION)
    return proto


def expose_embedding(proto: onnx.ModelProto) -> dict:
    """Add the landmark model's pooled features (its one GlobalAveragePool, flattened to N×C) as the output
    `embedding`; returns what the metadata says about it. The heads' outputs are unchanged."""
    pools = [node for node in proto.graph.node if node.op_type == "GlobalAveragePool"]
    if len(pools) != 1:
        raise HandExportError(f"expected one GlobalAveragePool in the hand landmark model, found {len(pools)}")
    pooled = pools[0].output[0]
    proto.graph.node.append(onnx.helper.make_node("Flatten", [pooled], [EMBEDDING_OUTPUT], axis=1))
    size = _pooled_channels(proto, pooled)
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    proto.graph.output.append(onnx.helper.make_tensor_value_info(
        EMBEDDING_OUTPUT, onnx.TensorProto.FLOAT, [batch.dim_value or batch.dim_param or None, size]))
    return {"output": EMBEDDING_OUTPUT, "size": size, "from": pooled}


def _pooled_channels(proto: onnx.ModelProto, pooled: str) -> int:
    """The channels of the pooled tensor, from ONNX's shape inference."""
    inferred = onnx.shape_inference.infer_shapes(proto)
    for value in list(inferred.graph.value_info) + list(inferred.graph.output):
        if value.name == pooled:
            return int(value.type.tensor_type.shape.dim[1].dim_value)
    raise HandExportError(f"the shape of {pooled} cannot be inferred")


def tflite_outputs(tflite: Path, kind: str) -> Callable[[np.ndarray], list[np.ndarray]]:
    """The TFLite interpreter as a function of one input batch, outputs in our order."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise HandExportError("ai-edge-litert is not installed: pip install 'asl-edge[hands]'") from None
    interpreter = Interpreter(model_path=str(tflite))
    interpreter.allocate_tensors()
    by_name = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    order = list(KINDS[kind][1])
    source = interpreter.get_input_details()[0]["index"]

    def run(batch: np.ndarray) -> list[np.ndarray]:
        results = []
        for item in batch:
            interpreter.set_tensor(source, item[None])
            interpreter.invoke()
            results.append([interpreter.get_tensor(by_name[name]).copy() for name in order])
        return [np.concatenate(parts) for parts in zip(*results)]

    return run


def model_inputs(images: list[np.ndarray], size: int) -> np.ndarray:
    """Pictures as the runtime feeds them: letterboxed square, RGB, 0..1 (noise when there are none)."""
    if not images:
        rng = np.random.default_rng(0)
        return rng.random((4, size, size, 3), dtype=np.float32)
    return np.stack([warp(im, whole_frame(im.shape), size)[:, :, ::-1] for im in images]).astype(np.float32) / 255.0


def parity(reference: list[np.ndarray], candidate: list[np.ndarray], names: list[str]) -> dict:
    """Per output: the largest |Δ| and the largest |value| it is measured against."""
    return {name: {"max_abs_diff": float(np.abs(r.astype(np.float64) - c).max()), "max_abs": float(np.abs(r).max())}
            for name, r, c in zip(names, reference, candidate)}


def export_hands(req: HandExportRequest, progress: Callable[[str], None] = lambda line: None) -> list[Path]:
    """Convert, simplify, check and write every requested hand model; returns the written paths."""
    source_dir = Path(req.source_dir) if req.source_dir else mediapipe_modules()
    out_dir = check_output_dir(req.out_dir)
    built = []
    for kind, (size, outputs) in KINDS.items():
        batch = model_inputs(req.images, size)   # the same pictures for lite and full
        for variant in req.variants:
            tflite = source_dir / kind / f"{kind}_{variant}.tflite"
            if not tflite.is_file():
                raise HandExportError(f"not found: {tflite} (is mediapipe=={MEDIAPIPE_VERSION} installed?)")
            progress(f"converting {tflite.name}")
            proto = convert(tflite, kind)
            proto, simplified = simplify(proto, batch[:2])
            embedding = expose_embedding(proto) if kind == "hand_landmark" else None
            check(proto)
            figures = parity(tflite_outputs(tflite, kind)(batch), run_outputs(proto, batch), list(outputs.values()))
            worst = max(figures.values(), key=lambda f: f["max_abs_diff"] / (1 + f["max_abs"]))
            if worst["max_abs_diff"] > req.tolerance * (1 + worst["max_abs"]):
                raise HandExportError(f"{tflite.name}: ONNX strays from TFLite by {worst['max_abs_diff']:.2e} "
                                      f"(magnitude {worst['max_abs']:.1f}): nothing written")
            meta = {"kind": kind, "variant": variant, "input_size": size, "input": "float32 NHWC RGB 0..1",
                    "source": f"mediapipe=={MEDIAPIPE_VERSION}: mediapipe/modules/{kind}/{tflite.name}",
                    "source_sha256": hashlib.sha256(tflite.read_bytes()).hexdigest(), "license": "Apache-2.0",
                    "converter": _converter(), "simplified": simplified,
                    "parity": {"images": len(batch), "real_images": bool(req.images), "outputs": figures}}
            if embedding:
                meta["embedding"] = embedding
            onnx.helper.set_model_props(proto, {HAND_MODEL_KEY: json.dumps(meta)})
            proto.producer_name = "asl-edge export-hands"
            progress(f"  parity vs TFLite on {len(batch)} pictures: " + ", ".join(
                f"{n} {f['max_abs_diff']:.1e} (of {f['max_abs']:.0f})" for n, f in figures.items()))
            built.append((proto, out_dir / f"{kind}_{variant}.onnx"))
    for proto, path in built:  # all converted and checked before the first is written
        with atomic_path(path) as tmp:
            onnx.save(proto, os.fspath(tmp))
    return [path for _, path in built]


def _converter() -> str:
    import tf2onnx

    return f"tf2onnx {tf2onnx.__version__}, opset {OPSET}"
