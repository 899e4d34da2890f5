"""A full tiny train → eval round on synthetic images, resume, and the errors a user can cause."""
import json
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner

from asl.runtime.cli import main
from asl.train.checkpoint import CheckpointError, load_checkpoint
from asl.train.model import AslNet, SeedCNN, count_flops, count_params


def test_training_writes_checkpoint_metrics_and_plots(tiny_checkpoint):
    out = tiny_checkpoint.parent
    for name in ("asl.pt", "last.pt", "metrics.json", "history.json", "curves.png", "confusion-val-synth.png"):
        assert (out / name).is_file(), name
    model, info = load_checkpoint(tiny_checkpoint)
    assert info.input_size == 32 and info.layout == "NHWC" and info.color_order == "BGR" and len(info.classes) == 29
    metrics = json.loads((out / "metrics.json").read_text())
    val = metrics["results"]["val:synth"]
    assert val["top1"] >= 0.9  # four easy synthetic classes
    assert set(val["per_class"]) == {"A", "B", "C", "nothing"}
    assert {"precision", "recall", "n"} <= set(val["per_class"]["A"])


def test_eval_scores_checkpoint_and_writes_json(tiny_checkpoint, synthetic_data, tmp_path):
    result = CliRunner().invoke(main, ["eval", str(synthetic_data), "--model", str(tiny_checkpoint), "--hand", "box",
                                       "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n"] == 128 and report["top1"] >= 0.9
    assert "top-1" in result.output


def test_resume_continues_from_last_epoch(synthetic_data, tmp_path):
    from asl.train.augment import AugmentConfig
    from asl.train.loop import TrainConfig, train

    config = TrainConfig(data=[str(synthetic_data)], out=str(tmp_path / "run"), epochs=1, batch_size=32, input_size=32,
                         width=0.5, augment=AugmentConfig(cutmix=0, mixup=0))
    train(config, progress=False)
    with pytest.raises(CheckpointError, match="--resume"):
        train(config, progress=False)
    config.epochs = 2
    train(config, resume=True, progress=False)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]


def test_missing_data_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "nope"), "--out", str(out)])
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0 and "data folder not found" in result.output
    assert not out.exists()


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    foreign = tmp_path / "resnet.pt"
    torch.save({"conv1.weight": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not an ASL checkpoint"):
        load_checkpoint(foreign)
    good = AslNet(width=0.5)
    ckpt = {"format": "asl-checkpoint/1", "arch": "aslnet", "arch_config": {"width": 1.0}, "state_dict": good.state_dict(),
            "info": {"classes": ["A"], "input_size": 32}}
    torch.save(ckpt, tmp_path / "mismatch.pt")
    result = CliRunner().invoke(main, ["eval", str(tmp_path), "--model", str(tmp_path / "mismatch.pt")])
    assert result.exit_code != 0 and "does not match architecture" in result.output


def test_edge_budget_of_the_default_model():
    from asl.train.loop import TrainConfig

    config = TrainConfig(data=[], out="")
    model = AslNet(width=config.width, expand=config.expand)
    assert count_params(model) <= 1_000_000
    assert count_flops(model, config.input_size) <= 60e6


def test_seed_cnn_is_the_reference_architecture():
    seed = SeedCNN()
    assert seed(torch.zeros(1, 200, 200, 3, dtype=torch.uint8)).shape == (1, 29)
    assert count_params(seed) > 40_000_000  # 128·25·25·512 dense weights dominate


def test_asl_help_is_instant_and_imports_no_torch():
    code = "import sys; from asl.runtime.cli import main; import asl.runtime; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_augmentation_keeps_layout_range_and_label_mass():
    from asl.train.augment import AugmentConfig, BatchAugment

    images = torch.randint(0, 256, (16, 32, 32, 3), dtype=torch.uint8)
    labels = torch.arange(16) % 29
    out, targets = BatchAugment(AugmentConfig(cutmix=0.5, mixup=0.5), 29, generator=torch.Generator().manual_seed(0))(images, labels)
    assert out.shape == (16, 32, 32, 3) and out.is_contiguous() and 0 <= out.min() and out.max() <= 255
    assert torch.allclose(targets.sum(1), torch.ones(16))


def test_hands_segmented_on_black_get_new_backgrounds():
    from asl.train.augment import AugmentConfig, BatchAugment

    images = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
    images[:, 10:22, 10:22] = 200                      # a "hand" on black
    config = AugmentConfig(background=1.0, zoom=(1, 1), shift=0, rotate=0, hflip=0, cutmix=0, mixup=0, noise=0, blur=0)
    out, _ = BatchAugment(config, 29, generator=torch.Generator().manual_seed(0))(images, torch.zeros(8, dtype=torch.long))
    corners = out[:, :4, :4].reshape(8, -1).amax(1)
    assert (corners > 0).sum() >= 5                     # most images now have a non-black room (some stay black on purpose)
