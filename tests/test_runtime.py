"""The runtime as a user meets it: predictions, sources, providers, fingerspelling, live video, errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import draw

from asl.runtime.cli import main
from asl.runtime.image import parse_roi, to_model_input
from asl.runtime.live import run_live
from asl.runtime.providers import ProviderError
from asl.runtime.recognizer import ModelError, Prediction, Recognizer
from asl.runtime.sources import open_source
from asl.runtime.spelling import Speller, SpellerConfig

ENV = {**os.environ, "DISPLAY": ""}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"DISPLAY": ""})


def write_video(path: Path, labels: list[str], size: int = 64) -> Path:
    """An MJPG video of synthetic signs, one frame per label."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (size, size))
    for i, label in enumerate(labels):
        writer.write(draw(label, i, size))
    writer.release()
    return path


# --- fingerspelling: tests/test_spelling.py ------------------------------------------------


# --- live loop on a generated video --------------------------------------------------------

class ScriptedRecognizer:
    """Stands in for the model: returns a scripted label per frame, read from the whole frame."""

    roi = None
    adaptive = None    # as a stream without --adapt
    landmarks = None   # no landmark classifier: nothing to teach

    def __init__(self, script):
        self.script = iter(script)

    def stream(self, adapt=False):
        return self

    def predict(self, image):
        label = next(self.script)
        return Prediction(label, 0.9, [(label, 0.9)], region=(0, 0, image.shape[1], image.shape[0]))


def test_live_headless_writes_video_and_text_from_scripted_predictions(tmp_path):
    script = ["nothing"] * 5 + ["H"] * 10 + ["I"] * 10 + ["nothing"] * 10
    video = write_video(tmp_path / "in.avi", ["nothing"] * len(script))
    out = tmp_path / "out.mp4"
    with open_source(str(video)) as frames:
        text = run_live(frames, ScriptedRecognizer(script), Speller(SpellerConfig(hold=0.3)), show=False, save=out)
    assert text == "HI"
    annotated = cv2.VideoCapture(str(out))
    assert annotated.isOpened() and int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == len(script)
    assert not list(tmp_path.glob("*.tmp*"))


def test_asl_live_cli_spells_a_generated_video(tiny_onnx, tmp_path):
    labels = ["nothing"] * 6 + ["A"] * 12 + ["nothing"] * 6 + ["B"] * 12 + ["C"] * 12 + ["nothing"] * 6
    video = write_video(tmp_path / "signs.avi", labels)
    result = run("live", video, "--model", tiny_onnx, "--hand", "box", "--headless", "--save", tmp_path / "annotated.mp4",
                 "--hold", 0.3)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "ABC"
    assert (tmp_path / "annotated.mp4").stat().st_size > 0


def test_live_without_display_says_so_in_one_line(tiny_onnx, tmp_path):
    result = run("live", write_video(tmp_path / "v.avi", ["A"] * 3), "--model", tiny_onnx)
    assert result.exit_code != 0 and "use --headless" in result.output and result.output.count("\n") == 1


# --- predict ----------------------------------------------------------------------------------

def test_predict_folder_reports_and_skips_corrupt_images(tiny_onnx, tmp_path):
    for label in ("A", "B", "C"):
        cv2.imwrite(str(tmp_path / f"{label}_test.jpg"), draw(label, 99))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    result = run("predict", tmp_path, "--model", tiny_onnx, "--hand", "box", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {Path(r["source"]).name: r["label"] for r in rows} == {"A_test.jpg": "A", "B_test.jpg": "B", "C_test.jpg": "C"}
    assert all(0 <= r["probability"] <= 1 and len(r["top_k"]) == 3 for r in rows)
    assert "3 predicted, 1 skipped" in result.stderr and "broken.jpg" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["predict", "missing.jpg"], "cannot read missing.jpg"),
    (["predict", "9"], "cannot open camera 9"),
    (["predict", "clip.mp4"], "video not found"),
    (["predict", "x.jpg", "--model", "nowhere.onnx"], "model not found"),
    (["predict", "x.jpg", "--provider", "quantum"], "unknown provider 'quantum'"),
    (["predict", "x.jpg", "--roi", "0.5,0.5,0.9,0.9"], "bad region of interest"),
])
def test_bad_input_is_one_clear_line(args, message, tiny_onnx, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cv2.imwrite("x.jpg", draw("A", 0))
    if "--model" not in args:
        args = args + ["--model", str(tiny_onnx)]
    result = run(*args)
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if not line.startswith("model:")]
    assert message in result.output and len([e for e in errors if e.strip()]) <= 2, result.output


def test_corrupt_model_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    with pytest.raises(ModelError, match="cannot load model"):
        Recognizer(bad)


# --- providers --------------------------------------------------------------------------------

def test_requested_gpu_provider_falls_back_loudly_or_fails_when_strict(tiny_onnx, caplog):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA: fallback cannot be shown")
    recognizer = Recognizer(tiny_onnx, provider="cuda")
    assert recognizer.provider == "cpu"
    assert any("'cuda' is not available" in r.message and r.levelname == "WARNING" for r in caplog.records)
    with pytest.raises(ProviderError, match="'tensorrt' is not available"):
        Recognizer(tiny_onnx, provider="tensorrt", strict=True)
    result = run("predict", "nothing.jpg", "--model", tiny_onnx, "--provider", "cuda", "--strict")
    assert result.exit_code != 0 and "not available" in result.output


def test_auto_on_a_cpu_machine_runs_quietly_on_cpu(tiny_onnx, caplog):
    assert Recognizer(tiny_onnx, provider="auto").provider in ("cpu", "cuda", "tensorrt")
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


# --- the runtime stays lean -------------------------------------------------------------------

def test_runtime_predicts_without_importing_torch(tiny_onnx, tmp_path):
    image = tmp_path / "a.jpg"
    cv2.imwrite(str(image), draw("A", 3))
    # The fixed box reads the synthetic sign; the tracked default (hand models loaded too) finds no real hand in it.
    code = ("import sys; from asl.runtime import Recognizer; "
            f"box = Recognizer(r'{tiny_onnx}', hand='box').predict(r'{image}'); "
            f"tracked = Recognizer(r'{tiny_onnx}').predict(r'{image}'); "
            "print(box.label, tracked.label, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["A", "nothing", "False"]


def test_region_of_interest_crops_before_resizing():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, 100:] = 255                      # right half white
    assert to_model_input(frame, 10, parse_roi("0.5,0,0.5,1")).min() == 255
    assert to_model_input(frame, 10).shape == (10, 10, 3)   # centred square by default
