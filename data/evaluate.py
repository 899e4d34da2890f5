"""Score a model on a labelled folder: an ONNX file through the runtime, or a checkpoint through torch."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from asl.data import CLASSES, DataError, find_images
from asl.data.cache import decode_set
from asl.data.hand_cache import track_set
from asl.runtime.batches import in_batches
from asl.runtime.landmark_classifier import LandmarkClassifier, fuse, fuse_adapted
from asl.runtime.metadata import ModelInfo
from asl.runtime.recognizer import CROP_MARGIN, NO_HAND
from asl.runtime.scoring import answers_where_found, score
from asl.runtime.tracker import HandTracker

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
             progress: Callable[[str, int, int], None] | None = None, tracker: HandTracker | None = None,
             crop_margin: float = CROP_MARGIN, landmarks: LandmarkClassifier | None = None, adapt: bool = False) -> dict:
    """Top-1, per-class figures and confusion over every readable labelled image in `data_dir`.

    With a tracker, each picture is read as the runtime reads it (hand found, crop classified) and a
    picture with no hand found counts as the answer `nothing`; `hands` says how many there were.
    A landmark classifier is fused with the crop classifier, as the runtime does; with `adapt`, adapted to the
    folder's own hands as one signer's (`fuse_adapted`, `asl eval --adapt`).
    """
    reads_embedding = landmarks is not None and tracker is not None and landmarks.reads_embedding_of(tracker)
    image_set = find_images(data_dir)
    missing = {CLASSES[s.label] for s in image_set.samples} - set(info.classes)
    if missing:
        raise DataError(f"the model does not know the classes {sorted(missing)} found in {data_dir}")
    found = None
    if tracker is None:
        images, labels, _ = decode_set(image_set, info.input_size, progress=progress, use_cache=False)
    else:
        hands = track_set(image_set, tracker, info.input_size, crop_margin, progress=progress)
        images, found = hands.crops, hands.found
        labels = np.array([image_set.samples[i].label for i in hands.kept], dtype=np.int64)
    if len(labels) == 0:
        raise DataError(f"no readable images in {data_dir}")
    # Dataset labels index CLASSES; the model's own output order comes from its metadata.
    to_model = np.array([info.classes.index(name) if name in info.classes else -1 for name in CLASSES])
    if found is None:
        predictions = in_batches(logits_fn, images, batch_size).argmax(1)
    else:   # only pictures with a hand are classified; the others answer `nothing`
        logits = in_batches(logits_fn, images[found], batch_size)
        if landmarks is not None and found.any():
            inputs = hands.classifier_inputs(found, reads_embedding)
            logits = (fuse_adapted(logits, landmarks, None, *inputs) if adapt
                      else fuse(logits, landmarks.log_probabilities(*inputs), landmarks.fusion_weight))
        predictions = answers_where_found(found, logits, info.classes.index(NO_HAND) if NO_HAND in info.classes else -1)
    result = score(to_model[labels], predictions, info.classes)
    result["data"] = str(data_dir)
    result["skipped"] = dict(image_set.skipped)
    if found is not None:
        truly_nothing = int(((~found) & (labels == CLASSES.index(NO_HAND))).sum()) if NO_HAND in CLASSES else 0
        result["hands"] = {"found": int(found.sum()), "not_found": int((~found).sum()),
                           "not_found_and_nothing": truly_nothing}
    return result
