"""`asl bench` writes a report with the seed ratio, parity figures, and names providers it could not run."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from asl.runtime.cli import main


def test_bench_report_on_tiny_models(tiny_onnx, tiny_checkpoint, synthetic_data, tmp_path):
    int8 = tiny_onnx.with_name("tiny.int8.onnx")
    result = CliRunner().invoke(main, [
        "bench", "--model", str(tiny_onnx), "--model", str(int8), "--checkpoint", str(tiny_checkpoint),
        "--data", str(synthetic_data), "--provider", "cpu", "--provider", "tensorrt", "--batch", "1", "--batch", "4", "--threads", "1",
        "--min-seconds", "0.05", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "bench.json").read_text())
    variants = {row["variant"] for row in report["latency"]}
    assert {"AslNet ONNX fp32 cpu", "AslNet ONNX int8 cpu", "AslNet PyTorch fp32 cpu", "seed CNN ONNX fp32 cpu"} <= variants
    assert {row["batch"] for row in report["latency"]} == {1, 4}
    assert all(row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"] for row in report["latency"])
    assert report["summary"]["speedup_fp32_vs_seed"] > 1 and report["summary"]["size_ratio_int8_vs_seed"] > 10
    parity = {row["precision"]: row for row in report["parity"] if "ONNX" in row["variant"]}
    assert parity["fp32"]["agreement"] == 1.0 and parity["int8"]["agreement"] >= 0.99
    if "TensorrtExecutionProvider" not in report["machine"]["onnxruntime_providers"]:
        assert any(note.startswith("tensorrt:") for note in report["unavailable"])
    markdown = (tmp_path / "bench.md").read_text()
    assert "faster" in markdown and "| AslNet ONNX int8 cpu |" in markdown
    assert (tmp_path / "bench-latency.png").stat().st_size > 0 and (tmp_path / "bench-accuracy.png").stat().st_size > 0


def test_torch_backend_leaves_the_callers_model_alone():
    """One model serves a CPU and a CUDA backend: making one must not move or switch the other."""
    import numpy as np

    from asl.benchmarks.torch_backend import torch_backend
    from asl.train.model import AslNet

    model = AslNet(width=0.25).train()
    backend = torch_backend(model, "AslNet", 32, threads=1, device="cpu")
    assert model.training and backend.logits(np.zeros((2, 32, 32, 3), np.uint8)).shape == (2, 29)


@pytest.mark.real_data
@pytest.mark.slow
def test_validation_report_reads_pictures_as_the_runtime_does(asl_data, tmp_path):
    """`asl bench-val`'s fused answer on a set's validation part is the recognizer's own answer, picture by picture."""
    from asl.data.classes import CLASSES
    from asl.data.folders import find_images
    from asl.data.split import frame_block_split
    from asl.runtime.image import read_image
    from asl.runtime.recognizer import Recognizer

    subset = tmp_path / "massey"
    for folder in sorted((asl_data / "massey_black").iterdir()):
        if folder.is_dir() and folder.name in ("A", "B", "K", "V", "nothing"):
            (subset / folder.name).mkdir(parents=True)
            for path in sorted(folder.iterdir())[:10]:
                (subset / folder.name / path.name).symlink_to(path)
    result = CliRunner().invoke(main, ["bench-val", "--data", str(subset), "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert set(report) == {"asl.int8.onnx", "asl.onnx"}
    from asl import models as bundled  # two models of one file name are both reported, by path
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "asl.onnx"
    twin.write_bytes(bundled.FP32.read_bytes())
    result = CliRunner().invoke(main, ["bench-val", "--data", str(subset), "--model", str(bundled.FP32), "--model",
                                       str(twin), "--out", str(tmp_path / "twins")])
    twins = json.loads((tmp_path / "twins" / "metrics.json").read_text())
    assert set(twins) == {str(bundled.FP32), str(twin)} and twins[str(twin)] == report["asl.onnx"]
    scores = report["asl.int8.onnx"]["massey"]
    assert set(scores) == {"fused", "crop", "landmarks", "hand_found"}
    assert (tmp_path / "report" / "confusion-val-massey.png").stat().st_size > 0

    samples = find_images(subset).samples
    _, val = frame_block_split(samples)
    recognizer = Recognizer(provider="cpu")
    answers = [p.label for p in recognizer.predict_batch([read_image(samples[i].path) for i in val])]
    runtime_top1 = np.mean([a == CLASSES[samples[i].label] for a, i in zip(answers, val)])
    assert scores["fused"]["n"] == len(val)
    assert abs(scores["fused"]["top1"] - runtime_top1) < 1e-9
