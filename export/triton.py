"""A model repository that NVIDIA Triton Inference Server loads as it is (onnxruntime backend).

Each ONNX file becomes `NAME/config.pbtxt` + `NAME/1/model.onnx`. Tensor names, types and dims
come from the file's own graph, class labels from its `asl.classes` metadata; a dynamic first
dimension on every tensor means Triton may batch (max_batch_size, dynamic batching), a fixed one
(the hand models) means it may not. The repository is built in a hidden folder beside the target
and renamed into place: a failure leaves nothing half-written.

Triton serves each model alone; the tracker → classifier order (palm detector, landmark model,
classifier) and the image work between them stay on the client, as in asl.runtime.tracker.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import onnx

from asl.export.pipeline import ExportError

PLATFORM = "onnxruntime_onnx"
LABELS = "labels.txt"
HAND_MODEL_KEY = "asl.hand_model"   # metadata that marks the shipped palm detector and landmark models

# ONNX element type → Triton's DataType (model_config.proto).
DATA_TYPES = {
    onnx.TensorProto.BOOL: "TYPE_BOOL", onnx.TensorProto.UINT8: "TYPE_UINT8", onnx.TensorProto.UINT16: "TYPE_UINT16",
    onnx.TensorProto.UINT32: "TYPE_UINT32", onnx.TensorProto.UINT64: "TYPE_UINT64", onnx.TensorProto.INT8: "TYPE_INT8",
    onnx.TensorProto.INT16: "TYPE_INT16", onnx.TensorProto.INT32: "TYPE_INT32", onnx.TensorProto.INT64: "TYPE_INT64",
    onnx.TensorProto.FLOAT16: "TYPE_FP16", onnx.TensorProto.FLOAT: "TYPE_FP32", onnx.TensorProto.DOUBLE: "TYPE_FP64",
    onnx.TensorProto.BFLOAT16: "TYPE_BF16", onnx.TensorProto.STRING: "TYPE_STRING",
}


@dataclass(frozen=True)
class Tensor:
    name: str
    data_type: str            # Triton's TYPE_*
    shape: tuple[int, ...]    # -1 where the graph names a dimension instead of fixing it


@dataclass(frozen=True)
class TritonModel:
    name: str
    source: Path
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    labels: tuple[str, ...]   # class names of the first output, from metadata 'asl.classes' (empty: none)
    batchable: bool           # every tensor's first dimension is free

    def config(self, max_batch_size: int, queue_delay_us: int) -> str:
        """config.pbtxt in protobuf text format (Triton's ModelConfig message)."""
        skip = 1 if self.batchable else 0
        lines = [f'name: "{self.name}"', f'platform: "{PLATFORM}"', f"max_batch_size: {max_batch_size if self.batchable else 0}"]
        for field, tensors in (("input", self.inputs), ("output", self.outputs)):
            lines.append(f"{field} [")
            for i, t in enumerate(tensors):
                extra = f'\n    label_filename: "{LABELS}"' if field == "output" and i == 0 and self.labels else ""
                dims = ", ".join(str(d) for d in t.shape[skip:])
                lines.append(f'  {{\n    name: "{t.name}"\n    data_type: {t.data_type}\n    dims: [ {dims} ]{extra}\n  }}'
                             + ("," if i < len(tensors) - 1 else ""))
            lines.append("]")
        if self.batchable:
            lines.append(f"dynamic_batching {{\n  max_queue_delay_microseconds: {queue_delay_us}\n}}")
        return "\n".join(lines) + "\n"


def _tensor(value: onnx.ValueInfoProto, source: Path) -> Tensor:
    kind = value.type.tensor_type
    if kind.elem_type not in DATA_TYPES:
        raise ExportError(f"{source}: tensor {value.name!r} has an element type Triton cannot serve "
                          f"({onnx.TensorProto.DataType.Name(kind.elem_type)})")
    return Tensor(value.name, DATA_TYPES[kind.elem_type],
                  tuple(d.dim_value if d.HasField("dim_value") else -1 for d in kind.shape.dim))


def model_name(path: Path) -> str:
    """`asl.int8.onnx` → `asl_int8`: Triton model names are folder names, kept to letters, digits, _ and -."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", path.name.removesuffix(".onnx"))


def describe(path: Path) -> TritonModel:
    """What Triton needs to know about one ONNX file, read from the file itself."""
    try:
        proto = onnx.load(path, load_external_data=False)
    except Exception as err:  # protobuf raises several types for a file that is not a model
        raise ExportError(f"{path} is not an ONNX model ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    graph = proto.graph
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer):
        raise ExportError(f"{path} keeps its weights in separate files: save it as one file to put it in a Triton repository")
    weights = {t.name for t in graph.initializer}
    inputs = tuple(_tensor(v, path) for v in graph.input if v.name not in weights)
    outputs = tuple(_tensor(v, path) for v in graph.output)
    if not inputs or not outputs:
        raise ExportError(f"{path} has no {'inputs' if not inputs else 'outputs'}")
    classes = {p.key: p.value for p in proto.metadata_props}.get("asl.classes")
    labels = tuple(json.loads(classes)) if classes else ()
    if labels and outputs[0].shape[-1:] not in ((len(labels),), (-1,)):
        raise ExportError(f"{path}: {len(labels)} classes in its metadata but output {outputs[0].name!r} has shape {outputs[0].shape}")
    batchable = all(t.shape and t.shape[0] == -1 for t in inputs + outputs)
    return TritonModel(model_name(path), path, inputs, outputs, labels, batchable)


def shipped_hand_models(folder: Path | None = None) -> list[Path]:
    """The palm detector and landmark models that ship in `asl.models` (those whose metadata names them)."""
    from asl.models import MODELS_DIR

    found = []
    for path in sorted(Path(folder or MODELS_DIR).glob("*.onnx")):
        try:
            proto = onnx.load(path, load_external_data=False)
        except Exception:  # not ours to judge here: only hand models are picked
            continue
        if any(p.key == HAND_MODEL_KEY for p in proto.metadata_props):
            found.append(path)
    return found


def check_target(target: Path) -> None:
    """Refuse a target that is a file or a folder of something else, before anything is exported."""
    if target.exists() and not target.is_dir():
        raise ExportError(f"--triton {target} is a file: give a folder for the model repository")
    if target.is_dir() and not _replaceable(target):
        raise ExportError(f"--triton {target} is a folder that is not a Triton model repository: choose an empty or new folder")
    existing = next(p for p in target.absolute().parents if p.exists())  # where the first new folder would go
    if not existing.is_dir():
        raise ExportError(f"cannot create --triton {target}: {existing} is a file")
    try:  # a real probe: permission bits say nothing to root, nor about a read-only mount
        os.rmdir(tempfile.mkdtemp(prefix=f".{target.name}.", dir=existing))
    except OSError as err:
        raise ExportError(f"cannot write --triton {target}: {err.strerror or err}") from None


def _replaceable(folder: Path) -> bool:
    """Empty, or a model repository (every entry a model folder with config.pbtxt): safe to replace."""
    return all(entry.is_dir() and (entry / "config.pbtxt").is_file() for entry in folder.iterdir())


def write_repository(target: Path, models: list[Path], max_batch_size: int = 32, queue_delay_us: int = 500) -> list[TritonModel]:
    """Write (or replace) the model repository `target` with one Triton model per ONNX file."""
    target = Path(target)
    check_target(target)
    described = [describe(p) for p in dict.fromkeys(Path(m).resolve() for m in models)]  # each file once
    names = [m.name for m in described]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ExportError(f"two models would share the Triton name {', '.join(twice)}: rename one ONNX file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as err:
        raise ExportError(f"cannot write the Triton repository {target}: {err.strerror or err}") from None
    try:
        for model in described:
            folder = staging / model.name
            (folder / "1").mkdir(parents=True)
            shutil.copyfile(model.source, folder / "1" / "model.onnx")
            (folder / "config.pbtxt").write_text(model.config(max_batch_size, queue_delay_us))
            if model.labels:
                (folder / LABELS).write_text("\n".join(model.labels) + "\n")
        _swap_into_place(staging, target)
    except OSError as err:
        raise ExportError(f"cannot write the Triton repository {target}: {err.strerror or err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return described


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`; an earlier repository there is moved aside first and removed after."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.rename(target, old / "repository")
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old / "repository", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
