"""How a picture becomes model input: read, cut out the region of interest, resize.

Everything after the resize (cast, scale, normalise, layout) happens inside the model graph, so
this file is the whole preprocessing any runtime needs. Training decodes its cache with it too.
"""
from __future__ import annotations

import os
from typing import NamedTuple

import cv2
import numpy as np

from asl.runtime.errors import AslError


class ImageError(AslError, ValueError):
    """An image file that cannot be decoded."""


class RoiError(AslError, ValueError):
    """A region of interest that is not a box inside the frame."""


class Roi(NamedTuple):
    """A box in fractions of the frame: left, top, width, height."""

    x: float
    y: float
    w: float
    h: float


def parse_roi(text: str | None) -> Roi | None:
    """`"x,y,w,h"` in fractions of the frame (e.g. `0.5,0.1,0.45,0.6`); None or "center" = centred square."""
    if text is None or text.strip().lower() in ("", "center", "centre"):
        return None
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise RoiError(f"bad region of interest {text!r}: expected x,y,w,h as fractions, e.g. 0.5,0.1,0.45,0.6") from None
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x + 1e-9 and 0 < h <= 1 - y + 1e-9):
        raise RoiError(f"bad region of interest {text!r}: the box must lie inside the frame (fractions 0..1)")
    return Roi(x, y, w, h)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to a BGR uint8 array, or raise ImageError with a one-line reason."""
    try:
        data = np.fromfile(os.fspath(path), dtype=np.uint8)
    except OSError as err:
        raise ImageError(f"cannot read {path}: {err.strerror or err}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageError(f"cannot decode {path}: not an image or corrupt")
    return image


def roi_box(shape: tuple[int, ...], roi: Roi | None) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) of the region of interest in a frame of `shape`."""
    height, width = shape[:2]
    if roi is None:
        side = min(height, width)
        x0, y0 = (width - side) // 2, (height - side) // 2
        return x0, y0, x0 + side, y0 + side
    x0, y0 = int(round(roi.x * width)), int(round(roi.y * height))
    x1, y1 = int(round((roi.x + roi.w) * width)), int(round((roi.y + roi.h) * height))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def to_model_input(frame: np.ndarray, size: int, roi: Roi | None = None) -> np.ndarray:
    """Crop the region of interest and resize it to `size`×`size`: uint8, HWC, BGR, contiguous."""
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    x0, y0, x1, y1 = roi_box(frame.shape, roi)
    crop = frame[y0:y1, x0:x1]
    if crop.shape[:2] == (size, size):
        return np.ascontiguousarray(crop)
    interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)
