"""Two training processes under torchrun (gloo on CPU): both finish, rank 0 alone writes, the result scores."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from asl.runtime.cli import main
from asl.train.checkpoint import CheckpointError, load_checkpoint

RUN_FILES = {"asl.pt", "last.pt", "metrics.json", "history.json", "curves.png", "confusion-val-synth.png"}


def _torchrun(data: Path, out: Path, logs: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "--log-dir", str(logs), "--redirects", "3",
               "-m", "asl.train", "--data", str(data), "--out", str(out), "--batch-size", "8", "--input-size", "32",
               "--width", "0.5", "--lr", "0.01", "--threads", "1", "--device", "cpu", "--no-progress",
               *[f"--aug={name}=0" for name in ("cutmix", "mixup", "background", "skin_background", "clutter")], *extra]
    env = {**os.environ, "ASL_CACHE": str(cache)}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def _rank_logs(logs: Path, rank: int) -> str:
    """Everything one rank wrote to stdout and stderr, over all launches into `logs`."""
    return "".join(p.read_text() for p in sorted(logs.glob(f"*/attempt_*/{rank}/std*.log")))


def _failure(done: subprocess.CompletedProcess, logs: Path) -> str:
    """What torchrun and each rank printed: the rank's own traceback says why it stopped."""
    return (done.stderr[-2000:] + "\n--- rank 0 ---\n" + _rank_logs(logs, 0)[-3000:]
            + "\n--- rank 1 ---\n" + _rank_logs(logs, 1)[-3000:])


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory, synthetic_data):
    root = tmp_path_factory.mktemp("ddp")
    out, logs, cache = root / "run", root / "logs", tmp_path_factory.getbasetemp() / "cache"
    done = _torchrun(synthetic_data, out, logs, cache, "--epochs", "10")
    assert done.returncode == 0, _failure(done, logs)
    return out, logs, cache


@pytest.mark.slow
def test_both_ranks_finish_and_only_rank_0_writes(two_process_run):
    out, logs, _ = two_process_run
    assert {p.name for p in out.iterdir()} == RUN_FILES  # one set of results, no temporary or per-rank files
    main_log, other_log = _rank_logs(logs, 0), _rank_logs(logs, 1)
    assert "2 processes (gloo), batch 8 per process, 16 in all" in main_log
    assert "epoch 10:" in main_log and f"checkpoint: {out / 'asl.pt'}" in main_log
    assert other_log == ""  # rank 1 trained, silently
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(1, 11))


@pytest.mark.slow
def test_checkpoint_of_two_processes_loads_and_scores(two_process_run, synthetic_data, tmp_path):
    out, _, _ = two_process_run
    model, info = load_checkpoint(out / "asl.pt")
    assert info.input_size == 32 and model.config["width"] == 0.5
    result = CliRunner().invoke(main, ["eval", str(synthetic_data), "--model", str(out / "asl.pt"), "--hand", "box",
                                         "--report", str(tmp_path / "r.json")])  # the synthetic signs fill the picture
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n"] == 128 and report["top1"] >= 0.75  # four easy classes; chance is 0.25


@pytest.mark.slow
def test_resume_across_ranks_continues_and_refuses_another_process_count(two_process_run, synthetic_data):
    from asl.train.loop import TrainConfig, train

    out, logs, cache = two_process_run
    config = TrainConfig(data=[str(synthetic_data)], out=str(out), epochs=11, batch_size=8, input_size=32, width=0.5)
    with pytest.raises(CheckpointError, match="trained by 2 process"):
        train(config, resume=True, progress=False)  # one process cannot continue a two-process run
    done = _torchrun(synthetic_data, out, logs, cache, "--epochs", "11", "--resume")
    assert done.returncode == 0, _failure(done, logs)
    assert "resuming after epoch 10" in _rank_logs(logs, 0) and _rank_logs(logs, 1) == ""
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(1, 12))
    assert {p.name for p in out.iterdir()} == RUN_FILES


def test_bf16_without_cuda_is_one_line_and_writes_nothing(synthetic_data, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--data", str(synthetic_data), "--out", str(out), "--device", "cpu", "--bf16"])
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0 and "--bf16 needs a CUDA device" in result.output
    assert not out.exists()
