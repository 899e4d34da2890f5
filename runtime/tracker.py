"""HandTracker: the signing hand anywhere in the frame, as MediaPipe's hand pipeline finds it.

Still images always run the palm detector. Video follows the hand as MediaPipe does: the next
frame's region comes from this frame's landmarks, and the palm detector runs again only when the
landmark model says the hand has gone.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from asl.runtime.errors import AslError
from asl.runtime.hand_landmarks import MIN_PRESENCE, LandmarkModel
from asl.runtime.hand_roi import HandRoi, roi_from_landmarks
from asl.runtime.palm import PalmDetector
from asl.runtime.providers import ProviderError, create_session

VARIANTS = ("lite", "full")
# The palm detector misses hands that fill the picture (hand-crop photos): still images are tried
# again at these zoom-outs, and video tries the next one on each frame while no hand is found.
# When none finds a palm, the landmark model reads the whole picture (`read_whole`). When that finds
# no hand either, the palm detector looks at each zoom-out in brightened copies, mildly then strongly,
# and last the landmark model reads each whole brightened copy.
ZOOM_OUTS = (1.0, 1.6, 2.5)
# Gamma below 1 lifts the shadows: a dark hand before a bright window (the Kaggle set's backlit frames).
BRIGHTEN_GAMMAS = (0.5, 0.3)
_BRIGHTEN = [np.clip(255 * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8) for gamma in BRIGHTEN_GAMMAS]
# A whole brightened picture read without a palm must be surer of its hand: shadows look like hands.
BRIGHTENED_WHOLE_PRESENCE = 0.8
# The order of `HandTracker.search`'s looks, as (brightening, zoom-out): None = the picture as given, or the
# whole picture read instead of palm detection. New looks go last, so every hand an older tracker found is
# found as before.
SEARCH_PLAN = ([(None, zoom) for zoom in ZOOM_OUTS] + [(None, None)]
               + [(lift, zoom) for lift in range(len(BRIGHTEN_GAMMAS)) for zoom in ZOOM_OUTS]
               + [(lift, None) for lift in range(len(BRIGHTEN_GAMMAS))])
SEARCH_STEPS = len(SEARCH_PLAN)
HAND_MODEL_KEY = "asl.hand_model"
# The bones between MediaPipe's 21 joints, for drawing a hand (overlay and web page).
HAND_CONNECTIONS = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
                    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20))


def brightened(frame: np.ndarray, lift: int) -> np.ndarray:
    """The frame with its shadows lifted by `BRIGHTEN_GAMMAS[lift]`."""
    return cv2.LUT(frame, _BRIGHTEN[lift])


class HandModelError(AslError, RuntimeError):
    """A hand model file that is missing or is not one of ours."""


@dataclass(frozen=True)
class Hand:
    """One tracked hand. Landmarks are MediaPipe's 21 joints (0 wrist, 4 thumb tip … 20 little fingertip)."""

    landmarks: np.ndarray        # 21×3, frame pixels (z: depth from the wrist, same scale)
    world: np.ndarray            # 21×3, metres, centred near the hand
    presence: float              # the landmark model's confidence that a hand is in its region
    left: float                  # P(left hand), as the camera sees it
    roi: HandRoi                 # the region the landmarks were read from
    palms: int = 1               # palms the detector found (0: tracked from the previous frame or read_whole)
    embedding: np.ndarray | None = field(default=None, repr=False)   # the landmark model's pooled features

    @property
    def handedness(self) -> str:
        return "left" if self.left >= 0.5 else "right"

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned box (x0, y0, x1, y1) around the landmarks."""
        (x0, y0), (x1, y1) = self.landmarks[:, :2].min(0), self.landmarks[:, :2].max(0)
        return float(x0), float(y0), float(x1), float(y1)

    def to_dict(self) -> dict:
        return {"handedness": self.handedness, "presence": round(self.presence, 3),
                "box": [round(v, 1) for v in self.box], "palms": self.palms,
                "landmarks": np.round(self.landmarks.astype(np.float64), 1).tolist()}


def hand_model_path(kind: str, variant: str, folder: Path | None = None) -> Path:
    """`models/palm_detection_lite.onnx`, `models/hand_landmark_full.onnx`, …"""
    from asl.models import MODELS_DIR

    return Path(folder or MODELS_DIR) / f"{kind}_{variant}.onnx"


def load_hand_session(path: Path, kind: str, provider: str, threads: int | None, strict: bool):
    """A session for one hand model, or one line that names the file and how to rebuild it."""
    if not path.is_file():
        raise HandModelError(f"hand model not found: {path} (rebuild it with `asl export-hands`, "
                             "which needs pip install 'asl-edge[hands]')")
    try:
        session, active = create_session(path, provider, threads, strict)
    except ProviderError:
        raise
    except Exception as err:  # a damaged or foreign file
        raise HandModelError(f"cannot load hand model {path}: {str(err).strip().splitlines()[0]}") from None
    meta = session.get_modelmeta().custom_metadata_map
    found = json.loads(meta.get(HAND_MODEL_KEY, "{}")).get("kind")
    if found != kind:
        raise HandModelError(f"{path} is not a {kind} model from `asl export-hands` (its metadata says {found!r})")
    return session, active


class HandTracker:
    """Finds the most confident hand in BGR frames with the palm and landmark ONNX models."""

    def __init__(self, detector: str = "full", landmarks: str = "full", provider: str = "auto",
                 threads: int | None = None, strict: bool = False, folder: str | os.PathLike | None = None,
                 min_presence: float = MIN_PRESENCE):
        for variant in (detector, landmarks):
            if variant not in VARIANTS:
                raise HandModelError(f"unknown hand model variant {variant!r}: choose one of {', '.join(VARIANTS)}")
        folder = Path(folder) if folder else None
        palm_session, self.provider = load_hand_session(hand_model_path("palm_detection", detector, folder),
                                                        "palm_detection", provider, threads, strict)
        landmark_session, _ = load_hand_session(hand_model_path("hand_landmark", landmarks, folder),
                                                "hand_landmark", provider, threads, strict)
        self.detector = PalmDetector(palm_session)
        self.landmark_model = LandmarkModel(landmark_session)
        self.min_presence = min_presence
        self.variants = (detector, landmarks)
        self.embedding_size = self.landmark_model.embedding_size   # 0: a hand model converted without it
        self.detections = 0   # palm detector runs, all tracks together (tests count them)
        self._default_track: HandTrack | None = None

    def detect(self, frame: np.ndarray) -> Hand | None:
        """Still-image mode: every step of `search` in turn until one finds a hand."""
        for step in range(SEARCH_STEPS):
            hand = self.search(frame, step)
            if hand is not None:
                return hand
        return None

    def search(self, frame: np.ndarray, step: int) -> Hand | None:
        """One way of finding a hand with no region to start from, settled (`settle`): palm detection at
        each zoom-out, then the whole picture read (`read_whole`); then palm detection at each zoom-out in
        copies brightened with each of `BRIGHTEN_GAMMAS` (`brightened`), and last each whole brightened copy
        read. Stills take them in turn; video one a frame.

        The brightened looks are for a dark hand before a bright window. Of the Kaggle set's 532 letter
        pictures where the plain looks find no hand, gamma 0.5's palm detection finds 258 (the landmark
        classifier reads 239 of them right), gamma 0.3's 43 of the rest (37 right), and the whole brightened
        pictures read at presence 0.8 or more 53 of those left (56 of all sets' 293, 47 read right). Of the
        831 `nothing` pictures of all sets without a hand, 9 gain one at gamma 0.5, 1 more at 0.3, none from
        the whole brightened reads (3 of 821 would at the usual presence of 0.5).
        """
        lift, zoom = SEARCH_PLAN[step]
        picture = frame if lift is None else brightened(frame, lift)
        if zoom is not None:
            hand = self.detect_at(picture, zoom)
            return None if hand is None else self.settle(picture, hand)
        return self.read_whole(picture, None if lift is None else BRIGHTENED_WHOLE_PRESENCE)

    def read_whole(self, frame: np.ndarray, min_presence: float | None = None) -> Hand | None:
        """The landmark model on the whole picture, settled on the region its landmarks give. With
        `min_presence`, the first reading only places that region and the settled hand must reach it.

        The palm detector misses hands that fill a backlit or cluttered hand photo (15% of the Kaggle
        set); read this way, two thirds of those are found, and no `nothing` picture of it gains a hand.
        """
        height, width = frame.shape[:2]
        whole = HandRoi(width / 2, height / 2, float(max(height, width)))
        if min_presence is None:
            hand = self.read(frame, whole, 0)
            return None if hand is None else self.settle(frame, hand)
        # Here the first reading only places the region; the hand read on it must be sure enough.
        landmarks = self.landmark_model.run(frame, whole)[0]
        hand = self.read(frame, roi_from_landmarks(landmarks), 0)
        return hand if hand is not None and hand.presence >= min_presence else None

    def settle(self, frame: np.ndarray, hand: Hand) -> Hand:
        """The landmarks read again on the region they give, as video tracking reads every next frame.

        Read from a palm box, the same hand gives different landmarks at different picture scales
        (webcam_wall's N: 20 of 20 right in the picture, 6 of 20 letterboxed into 640×480); read again
        on their own region they agree (20 of 20 both), and a still reads as live video does.
        """
        settled = self.read(frame, roi_from_landmarks(hand.landmarks), hand.palms)
        return settled if settled is not None else hand

    def track(self, frame: np.ndarray) -> Hand | None:
        """Video mode on this tracker's own track (one video at a time; use HandTrack for several)."""
        if self._default_track is None:
            self._default_track = HandTrack(self)
        return self._default_track.update(frame)

    def reset(self) -> None:
        """Forget the hand of the default track and the detection count."""
        self._default_track = None
        self.detections = 0

    def detect_at(self, frame: np.ndarray, zoom_out: float) -> Hand | None:
        """One palm detection at one zoom-out, then landmarks on the best palm whose region holds a hand."""
        self.detections += 1
        palms = self.detector.detect(frame, zoom_out)
        for palm in palms:  # best first; a palm whose region holds no hand is a false detection
            hand = self.read(frame, palm.roi, len(palms))
            if hand is not None:
                return hand
        return None

    def read(self, frame: np.ndarray, roi: HandRoi, palms: int) -> Hand | None:
        """The hand in a known region (from a palm or the previous frame), or None when the model sees none."""
        landmarks, world, presence, left, embedding = self.landmark_model.run(frame, roi)
        if presence < self.min_presence:
            return None
        return Hand(landmarks, world, presence, left, roi, palms, embedding)

    def embeddings(self, frame: np.ndarray, hand: Hand) -> np.ndarray:
        """2×D: the hand's embedding as read, and of its crop mirrored (one more landmark-model run).
        The landmark classifier reads the right-hand view of each (`hand_features.as_right_hand`)."""
        return np.stack([hand.embedding, self.landmark_model.mirrored_embedding(frame, hand.roi)])

    def right_hand_embedding(self, frame: np.ndarray, hand: Hand) -> np.ndarray:
        """The hand's embedding as a right hand would give it: as read, or for a left hand from its crop
        mirrored (one more landmark-model run, about as long as the first)."""
        if hand.handedness == "right":
            return hand.embedding
        return self.landmark_model.mirrored_embedding(frame, hand.roi)


class HandTrack:
    """One video's tracking state. The next frame's region comes from this frame's landmarks; while
    no hand is seen, each frame makes one try, cycling through the steps of `HandTracker.search`."""

    def __init__(self, tracker: HandTracker):
        self.tracker = tracker
        self.region: HandRoi | None = None
        self._step = 0

    def update(self, frame: np.ndarray) -> Hand | None:
        if self.region is not None:
            hand = self.tracker.read(frame, self.region, 0)
            if hand is not None:
                self.region = roi_from_landmarks(hand.landmarks)
                return hand
        hand = self.tracker.search(frame, self._step)
        self._step = 0 if hand is not None else (self._step + 1) % SEARCH_STEPS
        self.region = roi_from_landmarks(hand.landmarks) if hand is not None else None
        return hand
