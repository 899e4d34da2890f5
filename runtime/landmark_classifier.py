"""The landmark classifier in ONNX Runtime: letter log-probabilities from a hand's shape.

It ships beside the crop classifier (`asl.landmarks.onnx` next to `asl.onnx` / `asl.int8.onnx`);
its metadata `asl.landmark_model` names its classes, the crop margin it was trained with and
the weight its log-probabilities get when added to the crop classifier's.
"""
from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

import numpy as np

from asl.runtime.errors import AslError
from asl.runtime.hand_features import FEATURES, landmark_features
from asl.runtime.providers import ProviderError, create_session
from asl.runtime.signer_profile import AdaptiveProfile, ProfileError, SignerProfile, fingerprint

log = logging.getLogger("asl")

METADATA_KEY = "asl.landmark_model"
# The crop CNN's log-probabilities plus this times the landmark classifier's. Chosen on the ten
# leave-one-set-out rows (README), fused int8 mean at 1.0 / 1.5 / 2.0 / 3.0: 86.2 / 86.7 / 86.7 / 86.5%
# (landmarks alone 86.1%) with the classifiers that read the landmark model's embedding; 85.1 / 85.8 /
# 85.9 / 86.2% (86.0%) with the joints alone before: on people and rooms it never saw the crop CNN is
# the weaker reader.
FUSION_WEIGHT = 1.5
FILE_NAME = "asl.landmarks.onnx"
INPUT_NAME, EMBEDDING_NAME, OUTPUT_NAME, HIDDEN_NAME = "features", "embedding", "logits", "hidden"


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
        inputs = {i.name: i.shape[-1] for i in self.session.get_inputs()}
        if inputs.get(INPUT_NAME) != FEATURES or set(inputs) - {INPUT_NAME, EMBEDDING_NAME}:
            raise LandmarkModelError(f"{path} does not take this version's {FEATURES} landmark features: "
                                     "train and export it again (asl train-landmarks, asl export-landmarks)")
        # > 0: it also reads the hand landmark model's embedding, as a right hand gives it (hand_features.as_right_hand)
        self.embedding_size = int(inputs.get(EMBEDDING_NAME, 0))
        self.path = path
        self.classes: list[str] = list(self.info["classes"])
        self.fusion_weight = float(self.info.get("fusion_weight", FUSION_WEIGHT))
        self.crop_margin = float(self.info.get("crop_margin", 1.25))
        outputs = {o.name: o.shape[-1] for o in self.session.get_outputs()}
        self.hidden_size = int(outputs.get(HIDDEN_NAME, 0))   # 0: exported before signer profiles
        self.profile: SignerProfile | None = None

    def use_profile(self, profile: SignerProfile | None) -> None:
        """Read every hand with this user's profile (None: without one)."""
        if profile is not None:
            self.check_profile(profile)
        self.profile = profile

    def check_profile(self, profile: SignerProfile) -> None:
        """One clear line when `profile` was made with another classifier or this file cannot take one."""
        self.require_profiles()
        if profile.classifier != self.fingerprint or profile.classes != self.classes:
            raise ProfileError(f"the signer profile was made with another landmark classifier than {self.path}: "
                               "make it again with `asl calibrate` and this model")

    @functools.cached_property
    def fingerprint(self) -> str:
        """This file's identity, which a signer profile records (hashed once, when a profile is first made or read)."""
        return fingerprint(self.path)

    def adaptive_profile(self, min_hands: int = 1) -> AdaptiveProfile:
        """An empty profile of one signer's unlabelled hands for this classifier (`fuse_adapted`)."""
        self.require_profiles()
        return AdaptiveProfile(self.classes, self.hidden_size, self.fingerprint, min_hands)

    def require_profiles(self) -> None:
        """One clear line when this file cannot read a profile (exported before them)."""
        if not self.hidden_size:
            raise ProfileError(f"{self.path} was exported before signer profiles: export it again (asl export-landmarks)")

    def reads_embedding_of(self, tracker) -> bool:
        """Whether this classifier reads the embedding and the tracker's landmark model gives the one it was
        trained on; a loud warning when it would but cannot (it then reads the joints alone)."""
        if not self.embedding_size:
            return False
        trained = str(self.info.get("tracker", "full/full")).split("/")[-1]
        if tracker.embedding_size == self.embedding_size and tracker.variants[-1] == trained:
            return True
        log.warning("%s reads the %s hand landmark model's %d-d embedding; the tracker's %s model gives %s: reading "
                    "the joints alone, which it was trained to do on one hand in ten (leave-one-set-out about 3 points "
                    "lower). Use the %s landmark model, converted by this version's `asl export-hands`.", self.path,
                    trained, self.embedding_size, tracker.variants[-1], tracker.embedding_size or "none", trained)
        return False

    def log_probabilities(self, landmarks: np.ndarray, world: np.ndarray, left: np.ndarray,
                          embeddings: np.ndarray | None = None, profile: SignerProfile | None = None) -> np.ndarray:
        """N×classes log-probabilities for N hands (landmarks as the tracker gives them; `embeddings` N×D as a
        right hand gives them, or None where the tracker gives none: the joints alone), read with `profile`
        (a browser page's own) or else the classifier's."""
        if (profile or self.profile) is None:
            return log_softmax(self.session.run([OUTPUT_NAME], self._feeds(landmarks, world, left, embeddings))[0].astype(np.float32))
        return self.read(landmarks, world, left, embeddings, profile)[0]

    def read(self, landmarks: np.ndarray, world: np.ndarray, left: np.ndarray, embeddings: np.ndarray | None = None,
             profile: SignerProfile | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(`log_probabilities`, `hidden`) of N hands in one run: what a profile or `--adapt` reads."""
        self.require_profiles()
        profile = profile or self.profile
        logits, hidden = self.session.run([OUTPUT_NAME, HIDDEN_NAME], self._feeds(landmarks, world, left, embeddings))
        log_probabilities = log_softmax(logits.astype(np.float32))
        return (log_probabilities if profile is None else profile.adjust(log_probabilities, hidden)), hidden

    def hidden(self, landmarks: np.ndarray, world: np.ndarray, left: np.ndarray,
               embeddings: np.ndarray | None = None) -> np.ndarray:
        """N×H: the last hidden layer for N hands (what `asl calibrate` averages into a profile)."""
        self.require_profiles()
        return self.session.run([HIDDEN_NAME], self._feeds(landmarks, world, left, embeddings))[0]

    def _feeds(self, landmarks, world, left, embeddings) -> dict[str, np.ndarray]:
        feeds = {INPUT_NAME: landmark_features(landmarks, world, left)}
        if self.embedding_size:
            feeds[EMBEDDING_NAME] = (np.zeros((len(feeds[INPUT_NAME]), self.embedding_size), np.float32) if embeddings is None
                                     else np.asarray(embeddings, np.float32).reshape(len(feeds[INPUT_NAME]), -1))
        return feeds


def fuse_adapted(crop_logits: np.ndarray, classifier: LandmarkClassifier, adaptive: AdaptiveProfile | None,
                 landmarks: np.ndarray, world: np.ndarray, left: np.ndarray, embeddings: np.ndarray | None = None,
                 profile: SignerProfile | None = None) -> np.ndarray:
    """`fuse` for N hands of one signer, adapted to them without labels (`--adapt`): read once, added to the
    signer's `adaptive` profile (None: a new one of these N hands alone), then read again with it (on top of the
    user's own profile: `profile`, or else the classifier's)."""
    if adaptive is None:
        adaptive = classifier.adaptive_profile()
    shape, hidden = classifier.read(landmarks, world, left, embeddings, profile)
    own = adaptive.add(hidden, fuse(crop_logits, shape, classifier.fusion_weight))
    return fuse(crop_logits, own.adjust(shape, hidden), classifier.fusion_weight)


def fuse(crop_logits: np.ndarray, landmark_log_probabilities: np.ndarray, weight: float) -> np.ndarray:
    """The fused answer: the crop classifier's log-probabilities plus `weight` times the landmark classifier's."""
    return log_softmax(crop_logits) + weight * landmark_log_probabilities
