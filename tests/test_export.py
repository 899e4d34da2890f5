"""Export parity (fp32 exact, int8 close), metadata inside the file, and clean failures."""
import json

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from asl.data.arrays import load_set
from asl.export.pipeline import ExportError, ExportRequest, export
from asl.runtime.cli import main
from asl.runtime.recognizer import Recognizer
from asl.train.checkpoint import load_checkpoint
from asl.train.inference import predict_logits


def _props(path):
    return {p.key: json.loads(p.value) for p in onnx.load(str(path)).metadata_props if p.key.startswith("asl.")}


def test_fp32_matches_pytorch_exactly(tiny_onnx, tiny_checkpoint, synthetic_data):
    model, info = load_checkpoint(tiny_checkpoint)
    images = load_set(synthetic_data, info.input_size, progress=False).images
    reference = predict_logits(model, images)
    exported = Recognizer(tiny_onnx, provider="cpu").logits(images)
    assert (reference.argmax(1) == exported.argmax(1)).all()
    assert np.abs(reference - exported).max() < 1e-4
    parity = _props(tiny_onnx)["asl.parity"]
    assert parity["agreement"] == 1.0 and parity["max_abs_logit_diff"] < 1e-4


def test_int8_agrees_with_pytorch(tiny_onnx, tiny_checkpoint, synthetic_data):
    int8_path = tiny_onnx.with_name("tiny.int8.onnx")
    model, info = load_checkpoint(tiny_checkpoint)
    images = load_set(synthetic_data, info.input_size, progress=False).images
    agreement = (predict_logits(model, images).argmax(1) == Recognizer(int8_path, provider="cpu").logits(images).argmax(1)).mean()
    assert agreement >= 0.99
    props = _props(int8_path)
    assert props["asl.precision"] == "int8"
    assert props["asl.parity"]["calibration"]["method"] in ("minmax", "entropy", "percentile")
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(int8_path)).graph.node)


def test_metadata_travels_inside_the_file(tiny_onnx):
    onnx.checker.check_model(onnx.load(str(tiny_onnx)), full_check=True)
    recognizer = Recognizer(tiny_onnx, provider="cpu")
    assert recognizer.input_size == 32 and len(recognizer.classes) == 29 and recognizer.classes[27] == "nothing"
    assert recognizer.info.color_order == "BGR" and recognizer.info.layout == "NHWC"
    assert recognizer.info.train_data[0]["name"] == "synth"
    assert "val:synth" in recognizer.info.val_accuracy
    graph_input = onnx.load(str(tiny_onnx)).graph.input[0]
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8


def test_fp16_and_static_batch(tiny_checkpoint, synthetic_data, tmp_path):
    written = export(ExportRequest(tiny_checkpoint, tmp_path / "m.onnx", fp16=True, static_batch=True, data=[synthetic_data]))
    assert [p.name for p in written] == ["m.onnx", "m.fp16.onnx"]
    half = onnx.load(str(tmp_path / "m.fp16.onnx"))
    assert half.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in half.graph.initializer)
    assert _props(tmp_path / "m.fp16.onnx")["asl.parity"]["agreement"] >= 0.99


def test_int8_gate_fails_without_leaving_a_file(tiny_checkpoint, synthetic_data, tmp_path):
    with pytest.raises(ExportError, match="below fp32"):
        export(ExportRequest(tiny_checkpoint, tmp_path / "m.onnx", int8=True, calib=[synthetic_data], calib_images=8,
                             calib_method="minmax", int8_max_drop=-1.0))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case, message", [
    ("missing", "checkpoint not found"),
    ("foreign", "not an ASL checkpoint"),
    ("empty-calib", "no labelled images"),
    ("no-calib", "needs real images"),
    ("unwritable", "cannot"),
])
def test_bad_input_is_one_line_and_no_file(case, message, tiny_checkpoint, tmp_path):
    checkpoint, out, extra = tiny_checkpoint, tmp_path / "out" / "m.onnx", []
    if case == "missing":
        checkpoint = tmp_path / "absent.pt"
    elif case == "foreign":
        checkpoint = tmp_path / "foreign.pt"
        checkpoint.write_bytes(b"not a checkpoint")
    elif case == "empty-calib":
        (tmp_path / "empty").mkdir()
        extra = ["--int8", "--calib", str(tmp_path / "empty")]
    elif case == "no-calib":
        extra = ["--int8"]
    elif case == "unwritable":
        blocker = tmp_path / "blocker"
        blocker.write_text("a file where a folder should be")
        out = blocker / "m.onnx"
    result = CliRunner().invoke(main, ["export", str(checkpoint), "--out", str(out), *extra])
    assert result.exit_code != 0
    assert message in result.output and result.output.strip().count("\n") == 0, result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
