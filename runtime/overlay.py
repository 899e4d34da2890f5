"""Drawing what the recognizer sees and says onto a frame."""
from __future__ import annotations

import cv2
import numpy as np

from asl.runtime.recognizer import Prediction
from asl.runtime.tracker import HAND_CONNECTIONS, Hand

GREEN, WHITE, BLACK, AMBER = (80, 220, 80), (255, 255, 255), (0, 0, 0), (0, 191, 255)


def _text(image, text, origin, scale, colour, thickness=2):
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, BLACK, thickness + 3, cv2.LINE_AA)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def draw_hand(image: np.ndarray, hand: Hand, scale: float) -> None:
    """The tracked hand's skeleton: bones in white, joints in green."""
    points = np.round(hand.landmarks[:, :2]).astype(np.int32)
    for a, b in HAND_CONNECTIONS:
        cv2.line(image, tuple(points[a]), tuple(points[b]), WHITE, max(1, int(2 * scale)), cv2.LINE_AA)
    for point in points:
        cv2.circle(image, tuple(point), max(2, int(3 * scale)), GREEN, -1, cv2.LINE_AA)


def annotate(frame: np.ndarray, prediction: Prediction, fps: float,
             text: str, hold: float = 0.0, candidate: str | None = None, status: str = "") -> np.ndarray:
    """A copy of `frame` with the region read (the hand's box or the fixed box) and the hand's skeleton, the sign,
    its probability, FPS (and `status` beside it), the typed text, and the speller's candidate with its hold bar (how
    close it is to being typed)."""
    out = frame.copy()
    height, width = out.shape[:2]
    scale = max(0.5, width / 960)
    if prediction.hand is not None:
        draw_hand(out, prediction.hand, scale)
    if prediction.region is None:  # no hand in view: the answer goes in the corner
        x0, y0, x1, y1 = 0, int(20 * scale), width, height - int(44 * scale)
    else:
        x0, y0, x1, y1 = (int(v) for v in prediction.region)
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), GREEN, max(2, int(2 * scale)))
    if hold > 0:  # how close the current sign is to being typed
        cv2.rectangle(out, (x0, y1 - int(8 * scale)), (x0 + int((x1 - x0) * hold), y1), AMBER, -1)
    if candidate:  # the sign the speller's window favours, above the bar
        _text(out, candidate, (x0 + int(10 * scale), y1 - int(16 * scale)), 0.9 * scale, AMBER)
    _text(out, prediction.label, (x0 + int(10 * scale), y0 + int(60 * scale)), 2.0 * scale, GREEN, max(2, int(3 * scale)))
    _text(out, f"{prediction.probability:.0%}", (x0 + int(10 * scale), y0 + int(95 * scale)), 0.8 * scale, WHITE)
    _text(out, f"{fps:.1f} FPS" + (f"  {status}" if status else ""), (int(10 * scale), int(30 * scale)), 0.8 * scale, WHITE)
    bar = int(44 * scale)
    cv2.rectangle(out, (0, height - bar), (width, height), BLACK, -1)
    _text(out, (text[-40:] or " ") + "_", (int(10 * scale), height - int(12 * scale)), 1.0 * scale, WHITE)
    return out


def prompt(frame: np.ndarray, hand: Hand | None, letter: str, kept: int, per_letter: int, taking: bool) -> np.ndarray:
    """A copy of `frame` for `asl calibrate --camera`: the letter asked for, whether pictures are being taken
    (and how many so far), and the hand as tracked."""
    image = frame.copy()
    scale = max(image.shape[:2]) / 640
    if hand is not None:
        draw_hand(image, hand, scale)
    status = f"taking {kept + 1} of {per_letter}" if taking else "get ready"
    _text(image, f"sign {letter}", (int(12 * scale), int(48 * scale)), 1.4 * scale, GREEN if taking else AMBER, 3)
    _text(image, status + ("" if hand is not None or not taking else ": no hand seen"),
          (int(12 * scale), int(84 * scale)), 0.7 * scale, WHITE)
    return image
