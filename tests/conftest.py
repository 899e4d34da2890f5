"""Shared fixtures. Every image here is drawn by the tests; real photos come only through ASL_DATA."""
from __future__ import annotations

import os
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

SYNTH_CLASSES = ("A", "B", "C", "nothing")


def draw(label: str, index: int, size: int = 64) -> np.ndarray:
    """A synthetic 'sign': one easy pattern per class, jittered per image."""
    rng = np.random.default_rng(zlib.crc32(f"{label}{index}".encode()))
    image = np.full((size, size, 3), rng.integers(90, 140), np.uint8)
    c = size // 2 + int(rng.integers(-4, 5))
    if label == "A":
        cv2.circle(image, (c, c), size // 4, (40, 40, 220), -1)
    elif label == "B":
        cv2.rectangle(image, (0, c - size // 8), (size, c + size // 8), (235, 235, 235), -1)
    elif label == "C":
        triangle = np.array([[c, c - size // 3], [c - size // 3, c + size // 4], [c + size // 3, c + size // 4]])
        cv2.fillPoly(image, [triangle], (120, 30, 10))
    noise = rng.normal(0, 6, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def make_dataset(root: Path, per_class: int = 20, classes=SYNTH_CLASSES, size: int = 64, case: str = "as is") -> Path:
    """Class folders of numbered frames (A/A1.jpg ...), as in the Kaggle layout."""
    for label in classes:
        folder = root / (label.capitalize() if case == "capitalize" else label)
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            cv2.imwrite(str(folder / f"{label}{i + 1}.jpg"), draw(label, i, size))
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ASL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "synth", per_class=32)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, synthetic_data) -> Path:
    """A small AslNet trained for seconds on the synthetic set: decisive logits for parity tests."""
    from asl.train.augment import AugmentConfig
    from asl.train.loop import TrainConfig, train

    out = tmp_path_factory.mktemp("run")
    os.environ.setdefault("ASL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    config = TrainConfig(data=[str(synthetic_data)], out=str(out), epochs=12, batch_size=8, lr=1e-2, input_size=32, threads=1,
                         width=0.5, expand=2, warmup_epochs=0.5, ema_decay=0.9,
                         augment=AugmentConfig(rotate=5, hflip=0, cutmix=0, mixup=0, background=0, skin_background=0, clutter=0,
                                                 grayscale=0, noise=0, blur=0))
    return train(config, progress=False)


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory, tiny_checkpoint, synthetic_data) -> Path:
    from asl.export.pipeline import ExportRequest, export

    out = tmp_path_factory.mktemp("export") / "tiny.onnx"
    export(ExportRequest(tiny_checkpoint, out, int8=True, calib=[synthetic_data], calib_images=48))
    return out


@pytest.fixture(scope="session")
def asl_data() -> Path:
    root = os.environ.get("ASL_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("real images: set ASL_DATA to the shared data folder")
    return Path(root).resolve()  # absolute: tests link to these files from temporary folders
