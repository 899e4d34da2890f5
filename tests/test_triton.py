"""The Triton model repository: configs Triton's own ModelConfig message parses, naming the ONNX files' tensors."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper

from asl.export import triton
from asl.export.pipeline import ExportError
from asl.runtime.cli import main
from asl.runtime.metadata import ModelInfo

TRITON_TYPES = {"uint8": "TYPE_UINT8", "float": "TYPE_FP32", "float16": "TYPE_FP16", "int64": "TYPE_INT64"}


@pytest.fixture(scope="module")
def model_config_pb2():
    """Triton's ModelConfig message, as the tritonclient package ships it (dev extra)."""
    try:
        from tritonclient.grpc import model_config_pb2
    except (ImportError, RuntimeError):  # tritonclient.grpc raises RuntimeError without its grpc extra
        pytest.skip("needs tritonclient[grpc] (pip install 'asl-edge[dev]')")
    return model_config_pb2


@pytest.fixture(scope="module")
def static_model(tmp_path_factory) -> Path:
    """A fixed-batch graph with two outputs, as the hand models are: Triton may not batch it."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["boxes"]), helper.make_node("ReduceSum", ["image"], ["scores"], keepdims=1)],
        "fixed", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 8, 8, 3])],
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 8, 8, 3]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, 1, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = tmp_path_factory.mktemp("static") / "palm_detection_test.onnx"
    onnx.save(model, path)
    return path


def _parse(model_config_pb2, path: Path):
    from google.protobuf import text_format

    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def test_every_config_parses_and_names_the_onnx_tensors(model_config_pb2, tiny_onnx, static_model, tmp_path):
    int8 = tiny_onnx.with_name("tiny.int8.onnx")
    sources = [tiny_onnx, int8, static_model]
    repo = tmp_path / "repo"
    triton.write_repository(repo, sources, max_batch_size=16)
    assert sorted(p.name for p in repo.iterdir()) == ["palm_detection_test", "tiny", "tiny_int8"]
    for source in sources:
        folder = repo / triton.model_name(source)
        config = _parse(model_config_pb2, folder / "config.pbtxt")
        assert config.name == folder.name and config.platform == "onnxruntime_onnx"
        assert (folder / "1" / "model.onnx").read_bytes() == source.read_bytes()
        session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])  # the file as ONNX Runtime reads it
        for declared, actual in [*zip(config.input, session.get_inputs(), strict=True),
                                 *zip(config.output, session.get_outputs(), strict=True)]:
            assert declared.name == actual.name
            assert model_config_pb2.DataType.Name(declared.data_type) == TRITON_TYPES[actual.type[len("tensor("):-1]]
            batched = isinstance(actual.shape[0], str)
            expected = [d if isinstance(d, int) else -1 for d in (actual.shape[1:] if batched else actual.shape)]
            assert list(declared.dims) == expected
        if source == static_model:
            assert config.max_batch_size == 0 and not config.HasField("dynamic_batching")
        else:
            assert config.max_batch_size == 16 and config.HasField("dynamic_batching")
            classes = ModelInfo.from_props({p.key: p.value for p in onnx.load(str(source)).metadata_props}).classes
            assert config.output[0].label_filename == "labels.txt"
            assert (folder / "labels.txt").read_text().splitlines() == classes


def test_shipped_hand_models_join_the_repository(model_config_pb2, tmp_path):
    hands = triton.shipped_hand_models()
    if not hands:
        pytest.skip("no hand models in models/")
    repo = tmp_path / "repo"
    triton.write_repository(repo, hands)
    for path in hands:
        config = _parse(model_config_pb2, repo / triton.model_name(path) / "config.pbtxt")
        graph = onnx.load(str(path)).graph
        assert [t.name for t in config.input] == [v.name for v in graph.input]
        assert [t.name for t in config.output] == [v.name for v in graph.output]


def test_cli_packs_an_exported_model_and_replaces_its_own_repository(model_config_pb2, tiny_onnx, tmp_path):
    repo = tmp_path / "repo"
    for _ in range(2):  # the second run replaces the first repository
        result = CliRunner().invoke(main, ["export", str(tiny_onnx), "--triton", str(repo), "--max-batch-size", "8"])
        assert result.exit_code == 0, result.output
        assert "wrote Triton model repository" in result.output
    assert _parse(model_config_pb2, repo / "tiny" / "config.pbtxt").max_batch_size == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]  # no staging or old copies left beside it


@pytest.mark.parametrize("case", ["file", "foreign folder", "under a file", "read-only folder"])
def test_bad_target_is_one_line_and_writes_nothing(case, tiny_checkpoint, tmp_path, monkeypatch):
    target = tmp_path / "repo"
    if case == "file":
        target.write_text("not a folder")
    elif case == "foreign folder":
        target.mkdir()
        (target / "notes.txt").write_text("someone's files")
    elif case == "under a file":
        (tmp_path / "blocker").write_text("a file where a folder should be")
        target = tmp_path / "blocker" / "repo"
    else:
        (tmp_path / "locked").mkdir(mode=0o500)
        target = tmp_path / "locked" / "repo"
        if os.geteuid() == 0:  # root writes through permission bits: refuse as a read-only mount would

            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(triton.tempfile, "mkdtemp", refuse)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(main, ["export", str(tiny_checkpoint), "--out", str(out), "--triton", str(target)])
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0 and str(target) in result.output, result.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # not even the ONNX file


def test_failure_while_writing_leaves_nothing(tiny_onnx, static_model, tmp_path, monkeypatch):
    copies, copy = [], shutil.copyfile

    def copy_then_fail(src, dst):
        if copies:
            raise OSError(28, "No space left on device")
        copies.append(copy(src, dst))

    monkeypatch.setattr(triton.shutil, "copyfile", copy_then_fail)
    with pytest.raises(ExportError, match="cannot write the Triton repository .*No space left on device"):
        triton.write_repository(tmp_path / "repo", [tiny_onnx, static_model])
    assert list(tmp_path.iterdir()) == []


def test_duplicate_names_and_foreign_files_are_refused(static_model, tmp_path):
    twin = tmp_path / "other" / static_model.name
    twin.parent.mkdir()
    shutil.copy(static_model, twin)
    with pytest.raises(ExportError, match="share the Triton name palm_detection_test"):
        triton.write_repository(tmp_path / "repo", [static_model, twin])
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(np.arange(100, dtype=np.uint8).tobytes())
    with pytest.raises(ExportError, match="is not an ONNX model"):
        triton.write_repository(tmp_path / "repo", [junk])
    assert not (tmp_path / "repo").exists()
