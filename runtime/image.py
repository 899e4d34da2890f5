"""How a picture becomes model input: read, cut out the region of interest, resize.

Everything after the resize (cast, scale, normalise, layout) happens inside the model graph, so
this file is the whole preprocessing any runtime needs. Training decodes its cache with it too.
"""
from __future__ import annotations

import os
import struct
from typing import NamedTuple

# A decoded picture costs 3 bytes a pixel: refuse, from the header alone, anything larger than a
# 50-megapixel photo (150 MB decoded) before decoding. OpenCV's own cap, which it reads once at its
# first decode, is set to the same figure as a backstop for formats whose header we do not read.
MAX_PIXELS = 50_000_000
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402  (after the cap above)
import numpy as np  # noqa: E402

from asl.runtime.errors import AslError  # noqa: E402


class ImageError(AslError, ValueError):
    """An image file that cannot be decoded."""


class ImageTooLargeError(ImageError):
    """An image whose header declares more pixels than we agree to decode."""


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


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first start-of-frame marker, walking the segments (EXIF may come first)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:                     # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) declared by a JPEG, PNG, WebP or BMP header, without decoding; None for other formats."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        return None
    if data[:2] == b"BM" and len(data) >= 26:
        if int.from_bytes(data[14:18], "little") == 12:   # the old OS/2 header: 16-bit sizes
            return struct.unpack("<HH", data[18:22])
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    return None


def decode_image(data: bytes | np.ndarray, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Encoded image bytes to a BGR uint8 array, or ImageError with a one-line reason.

    The size is checked from the header before any pixel is decoded (ImageTooLargeError past `max_pixels`).
    """
    buffer = np.frombuffer(data, np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    size = image_size(buffer[:1 << 20].tobytes()) if buffer.size else None
    if size is not None and size[0] * size[1] > max_pixels:
        raise ImageTooLargeError(f"{name} is {size[0]}×{size[1]} pixels, more than the {max_pixels:,} allowed")
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
    except cv2.error:  # OpenCV's own pixel cap, for a format whose header we do not read
        raise ImageTooLargeError(f"{name} is larger than the {max_pixels:,} pixels allowed, or corrupt") from None
    if image is None:
        raise ImageError(f"cannot decode {name}: not an image or corrupt")
    if image.shape[0] * image.shape[1] > max_pixels:
        raise ImageTooLargeError(f"{name} is {image.shape[1]}×{image.shape[0]} pixels, more than the {max_pixels:,} allowed")
    return image


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file to a BGR uint8 array, or raise ImageError with a one-line reason."""
    try:
        data = np.fromfile(os.fspath(path), dtype=np.uint8)
    except OSError as err:
        raise ImageError(f"cannot read {path}: {err.strerror or err}") from None
    return decode_image(data, str(path), max_pixels)


def roi_box(shape: tuple[int, ...], roi: Roi | None) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) of the region of interest in a frame of `shape`."""
    height, width = shape[:2]
    if roi is None:
        side = min(height, width)
        x0, y0 = (width - side) // 2, (height - side) // 2
        return x0, y0, x0 + side, y0 + side
    # At least one pixel inside the frame, however small the frame and the box.
    x0, y0 = min(int(round(roi.x * width)), width - 1), min(int(round(roi.y * height)), height - 1)
    x1, y1 = int(round((roi.x + roi.w) * width)), int(round((roi.y + roi.h) * height))
    return x0, y0, min(max(x1, x0 + 1), width), min(max(y1, y0 + 1), height)


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
