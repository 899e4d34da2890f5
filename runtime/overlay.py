"""Drawing what the recognizer sees and says onto a frame."""
from __future__ import annotations

import cv2
import numpy as np

from asl.runtime.recognizer import Prediction

GREEN, WHITE, BLACK, AMBER = (80, 220, 80), (255, 255, 255), (0, 0, 0), (0, 191, 255)


def _text(image, text, origin, scale, colour, thickness=2):
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, BLACK, thickness + 3, cv2.LINE_AA)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def annotate(frame: np.ndarray, box: tuple[int, int, int, int], prediction: Prediction, fps: float,
             text: str, hold: float = 0.0) -> np.ndarray:
    """A copy of `frame` with the region of interest, the sign, its probability, FPS and the typed text."""
    out = frame.copy()
    height, width = out.shape[:2]
    scale = max(0.5, width / 960)
    x0, y0, x1, y1 = box
    cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), GREEN, max(2, int(2 * scale)))
    if hold > 0:  # how close the current sign is to being typed
        cv2.rectangle(out, (x0, y1 - int(8 * scale)), (x0 + int((x1 - x0) * hold), y1), AMBER, -1)
    _text(out, prediction.label, (x0 + int(10 * scale), y0 + int(60 * scale)), 2.0 * scale, GREEN, max(2, int(3 * scale)))
    _text(out, f"{prediction.probability:.0%}", (x0 + int(10 * scale), y0 + int(95 * scale)), 0.8 * scale, WHITE)
    _text(out, f"{fps:.1f} FPS", (int(10 * scale), int(30 * scale)), 0.8 * scale, WHITE)
    bar = int(44 * scale)
    cv2.rectangle(out, (0, height - bar), (width, height), BLACK, -1)
    _text(out, (text[-40:] or " ") + "_", (int(10 * scale), height - int(12 * scale)), 1.0 * scale, WHITE)
    return out
