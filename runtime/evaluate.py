"""Score a model on a labelled folder: an ONNX file through the runtime, or a checkpoint through torch."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from asl.data import CLASSES, DataError, find_images
from asl.data.cache import decode_set
from asl.runtime.metadata import ModelInfo
from asl.runtime.scoring import score

LogitsFn = Callable[[np.ndarray], np.ndarray]


def load_scorer(model: str | os.PathLike | None, provider: str = "auto", threads: int | None = None) -> tuple[LogitsFn, ModelInfo, str]:
    """(batch → logits, model info, description). `.pt` checkpoints need torch; anything else is ONNX."""
    if model is not None and Path(model).suffix == ".pt":
        from asl.train.checkpoint import load_checkpoint
        from asl.train.inference import predict_logits

        net, info = load_checkpoint(model)
        return (lambda batch: predict_logits(net, batch)), info, f"{model} (PyTorch)"
    from asl.runtime.recognizer import Recognizer

    recognizer = Recognizer(model, provider=provider, threads=threads)
    return recognizer.logits, recognizer.info, f"{recognizer.source} ({recognizer.info.precision}, {recognizer.provider})"


def evaluate(data_dir: str | os.PathLike, logits_fn: LogitsFn, info: ModelInfo, batch_size: int = 64,
             progress: bool = True) -> dict:
    """Top-1, per-class figures and confusion over every readable labelled image in `data_dir`."""
    image_set = find_images(data_dir)
    missing = {CLASSES[s.label] for s in image_set.samples} - set(info.classes)
    if missing:
        raise DataError(f"the model does not know the classes {sorted(missing)} found in {data_dir}")
    images, labels, _ = decode_set(image_set, info.input_size, progress=progress, use_cache=False)
    if len(labels) == 0:
        raise DataError(f"no readable images in {data_dir}")
    # Dataset labels index CLASSES; the model's own output order comes from its metadata.
    to_model = np.array([info.classes.index(name) if name in info.classes else -1 for name in CLASSES])
    logits = np.concatenate([logits_fn(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
    result = score(to_model[labels], logits.argmax(1), info.classes)
    result["data"] = str(data_dir)
    result["skipped"] = dict(image_set.skipped)
    return result
