"""Recognizer: an exported ASL model in ONNX Runtime, from pixels to letters."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from asl.models import default_model_path
from asl.runtime.batches import in_batches
from asl.runtime.errors import AslError
from asl.runtime.hand_roi import hand_crop
from asl.runtime.image import Roi, read_image, roi_box, to_model_input
from asl.runtime.landmark_classifier import fuse, fuse_adapted, load_partner
from asl.runtime.metadata import ModelInfo, check_model
from asl.runtime.providers import ProviderError, create_session
from asl.runtime.signer_profile import MIN_LIVE_HANDS, AdaptiveProfile, SignerProfile
from asl.runtime.tracker import Hand, HandTrack, HandTracker

HAND_MODES = ("track", "box")
NO_HAND = "nothing"        # the answer when the tracker finds no hand
CROP_MARGIN = 1.25         # the classifier's crop: this many times the landmarks' extent (measured: 1.1–2.0)


class ModelError(AslError, RuntimeError):
    """A model file that is missing or cannot be loaded."""


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float
    top_k: list[tuple[str, float]]
    region: tuple[int, int, int, int] | None = None   # the box the classifier read (x0, y0, x1, y1), None: no hand
    hand: Hand | None = None                          # the tracked hand, when --hand track found one

    def to_dict(self) -> dict:
        out = {"label": self.label, "probability": round(self.probability, 4),
               "top_k": [[name, round(p, 4)] for name, p in self.top_k]}
        if self.region is not None:
            out["region"] = [int(v) for v in self.region]
        if self.hand is not None or self.region is None:
            out["hand"] = self.hand.to_dict() if self.hand is not None else None
        return out


@dataclass(frozen=True)
class Observation:
    """One frame as the classifiers read it: the crop (None: no hand found), where it was cut, and the hand."""
    crop: np.ndarray | None = None
    region: tuple[int, int, int, int] | None = None
    hand: Hand | None = None
    embedding: np.ndarray | None = None   # the landmark model's, as a right hand gives it, where the classifier reads it


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class Recognizer:
    """Loads an ONNX model exported by `asl export` and names the sign in images.

    Class names, input size and pixel layout come from the model's own metadata.
    """

    def __init__(self, model: str | os.PathLike | bytes | None = None, provider: str = "auto",
                 threads: int | None = None, strict: bool = False, roi: Roi | None = None, top_k: int = 3,
                 hand: str = "track", tracker: HandTracker | None = None, crop_margin: float = CROP_MARGIN,
                 landmarks: str | os.PathLike | None = "auto", profile: str | os.PathLike | None = None):
        if model is None:
            model = default_model_path()
        if not isinstance(model, bytes):
            model = Path(model)
            if not model.is_file():
                raise ModelError(f"model not found: {model}")
        self.source = "<in memory>" if isinstance(model, bytes) else str(model)
        try:
            self.session, self.provider = create_session(model, provider, threads, strict)
            self.info = ModelInfo.from_props(dict(self.session.get_modelmeta().custom_metadata_map))
            check_model(self.session, self.info)
        except ProviderError:
            raise
        except Exception as err:  # onnxruntime raises its own types for a damaged or foreign file
            raise ModelError(f"cannot load model {self.source}: {str(err).strip().splitlines()[0]}") from None
        self.classes: list[str] = list(self.info.classes)
        self.input_size: int = int(self.info.input_size)
        self.roi = roi
        self.top_k = top_k
        if hand not in HAND_MODES:
            raise ModelError(f"unknown hand mode {hand!r}: choose one of {', '.join(HAND_MODES)}")
        # A region of interest means the fixed box; otherwise the tracker finds the hand.
        self.hand_mode = "box" if roi is not None else hand
        if self.hand_mode == "track" and tracker is None:
            tracker = HandTracker(provider=provider, threads=threads, strict=strict)
        self.tracker = tracker if self.hand_mode == "track" else None
        self.crop_margin = crop_margin
        self.landmarks = (load_partner(landmarks, None if isinstance(model, bytes) else model, self.classes,
                                       provider, threads, strict) if self.tracker is not None else None)
        # Whether the landmark classifier reads the landmark model's embedding (warned once here when it cannot)
        self.reads_embedding = self.landmarks is not None and self.landmarks.reads_embedding_of(self.tracker)
        if profile is not None:   # a user's own signs (asl calibrate): read by the landmark classifier
            if self.landmarks is None:
                raise ModelError("a signer profile needs the tracked hand and its landmark classifier (not --hand box or --landmarks none)")
            self.landmarks.use_profile(SignerProfile.load(profile))
        self._input = self.session.get_inputs()[0].name
        batch = self.session.get_inputs()[0].shape[0]
        self._static_batch = batch if isinstance(batch, int) else None  # e.g. a batch-1 export for TensorRT

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The fixed region of interest of a BGR frame, resized to the model's input (--hand box)."""
        return to_model_input(frame, self.input_size, self.roi)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw model outputs for an N×S×S×3 uint8 batch already at the input size."""
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        return in_batches(lambda part: self.session.run(None, {self._input: part})[0], batch, self._static_batch).astype(np.float32)

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Predictions for still BGR pictures of any size: each is searched for a hand (or cut to the box)."""
        return self.answer([self.observe_still(im) for im in images])

    def stream(self, adapt: bool = False) -> "RecognizerStream":
        """A video's own tracking state: the hand found in one frame leads the search in the next. With `adapt`,
        the signer's hands so far lead the reading of the next too (`live --adapt`: letters join the adaptive
        profile once `MIN_LIVE_HANDS` hands were read as them)."""
        return RecognizerStream(self, self.adaptive_profile(MIN_LIVE_HANDS) if adapt else None)

    def observe_still(self, image: np.ndarray) -> Observation:
        """`observe` for a still picture: the hand searched for in it alone."""
        return self.observe(image, self.tracker.detect(image) if self.tracker is not None else None)

    def observe(self, frame: np.ndarray, hand: Hand | None) -> Observation:
        """What the classifiers read of one frame (its hand as `tracker` found it, or None): the frame itself is
        not kept, so a whole video's observations fit in memory for `answer(..., adaptive)`."""
        if self.tracker is None:
            return Observation(self.prepare(frame), roi_box(frame.shape, self.roi))
        if hand is None:
            return Observation()
        crop, region = hand_crop(frame, hand.landmarks, self.input_size, self.crop_margin)
        embedding = self.tracker.right_hand_embedding(frame, hand) if self.reads_embedding else None
        return Observation(crop, region, hand, embedding)

    def adaptive_profile(self, min_hands: int = 1) -> AdaptiveProfile:
        """An empty profile of one signer's unlabelled hands for `answer` (`--adapt`); one clear line when this
        model cannot adapt (it reads the landmark classifier's hidden layer)."""
        if self.landmarks is None:
            raise ModelError("--adapt needs the tracked hand and its landmark classifier (not --hand box or --landmarks none)")
        return self.landmarks.adaptive_profile(min_hands)

    def answer(self, observations: Sequence[Observation], adaptive: AdaptiveProfile | None = None,
               profile: SignerProfile | None = None) -> list[Prediction]:
        """Predictions for observed frames, classified in one batch, with `profile` (a browser page's own) or else
        the recognizer's. With an `adaptive` profile, the frames are one signer's: their hands are added to it and
        read adapted to it, no labels used (`fuse_adapted`; a whole folder in one call, or a camera's frames one
        call at a time)."""
        read = [o for o in observations if o.crop is not None]
        scores = self.logits(np.stack([o.crop for o in read])) if read else np.zeros((0, len(self.classes)), np.float32)
        if self.landmarks is not None and any(o.hand is not None for o in read):
            inputs = self._hands(read)
            scores = (fuse_adapted(scores, self.landmarks, adaptive, *inputs, profile=profile) if adaptive is not None
                      else fuse(scores, self.landmarks.log_probabilities(*inputs, profile=profile), self.landmarks.fusion_weight))
        probabilities = iter(softmax(scores))
        return [self._prediction(next(probabilities), o.region, o.hand) if o.crop is not None
                else Prediction(NO_HAND, 1.0, [(NO_HAND, 1.0)], None, None) for o in observations]

    def hidden(self, observations: Sequence[Observation]) -> np.ndarray:
        """The landmark classifier's hidden layer for the observations with a hand (what a profile is made of)."""
        return self.landmarks.hidden(*self._hands([o for o in observations if o.hand is not None]))

    def _hands(self, observations: Sequence[Observation]) -> tuple:
        """The landmark classifier's inputs for observations that all hold a hand."""
        hands = [o.hand for o in observations]
        return (np.stack([h.landmarks for h in hands]), np.stack([h.world for h in hands]), np.array([h.left for h in hands]),
                np.stack([o.embedding for o in observations]) if self.reads_embedding else None)

    def predict(self, image: np.ndarray | str | os.PathLike) -> Prediction:
        """Prediction for one BGR frame or image file."""
        if not isinstance(image, np.ndarray):
            image = read_image(image)
        return self.predict_batch([image])[0]

    def _prediction(self, probabilities: np.ndarray, region=None, hand: Hand | None = None) -> Prediction:
        order = np.argsort(-probabilities)[: self.top_k]
        top = [(self.classes[i], float(probabilities[i])) for i in order]
        return Prediction(top[0][0], top[0][1], top, region, hand)


class RecognizerStream:
    """Frames of one video or camera, in order: the tracker follows the hand instead of searching every frame.
    `profile` (None: the recognizer's) is this stream's own, e.g. one a browser page was taught (`SignTeaching`)."""

    def __init__(self, recognizer: Recognizer, adaptive: AdaptiveProfile | None = None):
        self.recognizer, self.adaptive = recognizer, adaptive
        self.track = HandTrack(recognizer.tracker) if recognizer.tracker is not None else None
        self.profile: SignerProfile | None = None
        self.last: Observation | None = None   # the last frame predicted

    def predict(self, frame: np.ndarray) -> Prediction:
        self.last = self.observe(frame)
        return self.recognizer.answer([self.last], self.adaptive, self.profile)[0]

    def observe(self, frame: np.ndarray) -> Observation:
        """The next frame's observation, its hand followed from the last frame's (to answer later, `--adapt`)."""
        return self.recognizer.observe(frame, self.track.update(frame) if self.track is not None else None)
