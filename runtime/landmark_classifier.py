"""The landmark classifier in ONNX Runtime: letter log-probabilities from a hand's shape.

It ships beside the crop classifier (`asl.landmarks.onnx` next to `asl.onnx` / `asl.int8.onnx`);
its metadata `asl.landmark_model` names its classes, the crop margin it was trained with and
the weight its log-probabilities get when added to the crop classifier's.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from asl.runtime.errors import AslError
from asl.runtime.hand_features import FEATURES, landmark_features
from asl.runtime.providers import ProviderError, create_session

METADATA_KEY = "asl.landmark_model"
# The crop CNN's log-probabilities plus this times the landmark classifier's. Chosen on the ten
# leave-one-set-out rows (README), fused int8 mean at 1.0 / 1.5 / 2.0 / 3.0: 84.7 / 85.4 / 85.5 / 85.5%
# (landmarks alone 85.3%), and 85.1 / 85.8 / 85.9 / 86.1% (86.0%) with the mirrored-hands landmark
# classifiers: on people and rooms it never saw the crop CNN is the weaker reader.
FUSION_WEIGHT = 3.0
FILE_NAME = "asl.landmarks.onnx"
INPUT_NAME, OUTPUT_NAME = "features", "logits"


class LandmarkModelError(AslError, RuntimeError):
    """A landmark classifier file that is missing, foreign, or does not fit the crop classifier."""


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def partner_path(crop_model: Path) -> Path:
    """Where the landmark classifier of a crop model lives: `asl.landmarks.onnx` in the same folder."""
    return Path(crop_model).parent / FILE_NAME


def load_partner(choice: str | Path | None, crop_model: Path | None, classes: list[str], provider: str = "cpu",
                 threads: int | None = None, strict: bool = False) -> "LandmarkClassifier | None":
    """The landmark classifier to fuse with a crop model: None/"none" for none, "auto" for the one shipped
    beside `crop_model` (none if absent or the model is in memory), or a path; its classes must be the crop model's."""
    if choice is None or str(choice) == "none":
        return None
    if str(choice) == "auto":
        if crop_model is None or not partner_path(crop_model).is_file():
            return None
        choice = partner_path(crop_model)
    classifier = LandmarkClassifier(choice, provider, threads, strict)
    if classifier.classes != list(classes):
        raise LandmarkModelError(f"{classifier.path} names other classes than the crop model beside it: they cannot be fused")
    return classifier


class LandmarkClassifier:
    def __init__(self, path: str | Path, provider: str = "cpu", threads: int | None = None, strict: bool = False):
        path = Path(path)
        if not path.is_file():
            raise LandmarkModelError(f"landmark model not found: {path}")
        try:
            self.session, _ = create_session(path, provider, threads, strict)
        except ProviderError:
            raise
        except Exception as err:
            raise LandmarkModelError(f"cannot load landmark model {path}: {str(err).strip().splitlines()[0]}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in meta:
            raise LandmarkModelError(f"{path} is not a landmark model from `asl export-landmarks`")
        self.info = json.loads(meta[METADATA_KEY])
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or inputs[0].shape[-1] != FEATURES:
            raise LandmarkModelError(f"{path} does not take this version's {FEATURES} landmark features: "
                                     "train and export it again (asl train-landmarks, asl export-landmarks)")
        self.path = path
        self.classes: list[str] = list(self.info["classes"])
        self.fusion_weight = float(self.info.get("fusion_weight", FUSION_WEIGHT))
        self.crop_margin = float(self.info.get("crop_margin", 1.25))

    def log_probabilities(self, landmarks: np.ndarray, world: np.ndarray, left: np.ndarray) -> np.ndarray:
        """N×classes log-probabilities for N hands (landmarks as the tracker gives them)."""
        features = landmark_features(landmarks, world, left)
        return log_softmax(self.session.run([OUTPUT_NAME], {INPUT_NAME: features})[0].astype(np.float32))


def fuse(crop_logits: np.ndarray, landmark_log_probabilities: np.ndarray, weight: float) -> np.ndarray:
    """The fused answer: the crop classifier's log-probabilities plus `weight` times the landmark classifier's."""
    return log_softmax(crop_logits) + weight * landmark_log_probabilities
