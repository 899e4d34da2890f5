"""The shipped models' validation report (`models/report/`): each set's validation part read as the
runtime reads it — hand tracked, crop classified, landmarks classified, the two fused; no hand
found = `nothing` — for every crop model given, with the fused answer's confusion matrix per set.

The hands come from the same per-set cache as `asl train-landmarks`, so a report over sets already
trained on tracks nothing again.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from asl.data.classes import CLASSES
from asl.data.folders import find_images
from asl.data.hand_cache import CROP_SIZE, load_hand_set
from asl.runtime.files import check_output_dir, write_atomic
from asl.runtime.hand_roi import hand_crop
from asl.runtime.image import read_image
from asl.runtime.landmark_classifier import LandmarkClassifier, fuse, log_softmax
from asl.runtime.progress import Progress
from asl.runtime.recognizer import CROP_MARGIN, Recognizer
from asl.runtime.scoring import answers_where_found, score
from asl.runtime.tracker import HandTracker

NOTHING = CLASSES.index("nothing")


def set_report(recognizer: Recognizer, landmarks: LandmarkClassifier, crops: np.ndarray, shape: np.ndarray,
               found: np.ndarray, labels: np.ndarray) -> dict:
    """Top-1, per-class figures and confusion of the fused answer and of each classifier alone."""
    logits = recognizer.logits(crops) if len(crops) else np.zeros((0, len(CLASSES)), np.float32)
    result = {}
    for kind, scores in (("fused", fuse(logits, shape, landmarks.fusion_weight)), ("crop", log_softmax(logits)),
                         ("landmarks", shape)):
        result[kind] = score(labels, answers_where_found(found, scores, NOTHING), CLASSES)
    result["hand_found"] = float(found.mean())
    return result


def validation_report(data: list[Path], crop_models: list[Path], landmark_model: Path, out: Path,
                      threads: int | None = None, progress: Progress | None = None) -> list[Path]:
    """Write `metrics.json` ({crop model: {set: {fused, crop, landmarks, hand_found}}}) and one
    `confusion-val-<set>.png` per set (the first crop model, fused); returns the paths written."""
    from asl.train.plots import plot_confusion  # matplotlib: only when a report is drawn

    out = check_output_dir(out)
    tracker = HandTracker(provider="cpu", threads=threads)
    landmarks = LandmarkClassifier(landmark_model, "cpu", threads)
    reads_embedding = landmarks.reads_embedding_of(tracker)
    names = [Path(m).name for m in crop_models]   # a file's name, or its path where two share a name
    recognizers = {name if names.count(name) == 1 else str(m):
                   Recognizer(m, provider="cpu", threads=threads, tracker=tracker, landmarks="none")
                   for name, m in zip(names, crop_models)}
    report: dict[str, dict] = {name: {} for name in recognizers}
    first_model = next(iter(recognizers))   # its fused answer is drawn
    sizes = {recognizer.input_size for recognizer in recognizers.values()}
    written = []
    for index, root in enumerate(data, 1):
        hand_set = load_hand_set(root, tracker, CROP_SIZE, CROP_MARGIN, progress=progress)
        samples = find_images(root).samples
        rows, hands = hand_set.val, hand_set.hands
        found = hands.found[rows]
        with_hand = rows[found]
        shape = (landmarks.log_probabilities(*hands.classifier_inputs(with_hand, reads_embedding))
                 if len(with_hand) else np.zeros((0, len(CLASSES)), np.float32))
        crops: dict[int, list[np.ndarray]] = {size: [] for size in sizes}
        for r in with_hand:   # each picture read once, cut at every crop model's input size
            picture = read_image(samples[hands.kept[r]].path)
            for size in sizes:
                crops[size].append(hand_crop(picture, hands.landmarks[r], size, CROP_MARGIN)[0])
        for name, recognizer in recognizers.items():
            size = recognizer.input_size
            batch = np.stack(crops[size]) if crops[size] else np.zeros((0, size, size, 3), np.uint8)
            report[name][hand_set.name] = set_report(recognizer, landmarks, batch, shape, found, hand_set.labels[rows])
        first = report[first_model][hand_set.name]["fused"]
        path = out / f"confusion-val-{hand_set.name}.png"
        plot_confusion(first, path, f"{hand_set.name}: fused {first_model}, validation part, top-1 {first['top1']:.1%}")
        written.append(path)
        if progress:
            progress("validation report", index, len(data))
    write_atomic(out / "metrics.json", json.dumps(report, indent=1))
    return [out / "metrics.json", *written]
