"""The rotated square around a hand, in frame pixels, and the one warp that cuts it out.

Palm detection, the landmark model and the letter classifier all see the frame through `warp`,
so a point found in any crop maps back to the frame with `to_frame` and nowhere else.
The geometry follows MediaPipe's hand graphs (rotation so the fingers point up, square boxes
scaled around the palm or the landmarks), written in pixels instead of normalised units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Landmarks that set a hand's box in tracking mode (MediaPipe: wrist, thumb base, and the two
# lower joints of each finger; fingertips move too much to anchor a box).
_TRACKING_JOINTS = np.array([0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18])


@dataclass(frozen=True)
class HandRoi:
    """A square of side `size` centred on (cx, cy), turned by `angle` radians (clockwise on screen)."""

    cx: float
    cy: float
    size: float
    angle: float = 0.0

    def corners(self) -> np.ndarray:
        """The four corners in frame pixels (top-left, top-right, bottom-right, bottom-left of the crop)."""
        return to_frame(np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32), self)

    def to_dict(self) -> dict:
        return {"cx": round(self.cx, 1), "cy": round(self.cy, 1), "size": round(self.size, 1),
                "angle": round(math.degrees(self.angle), 1)}


def _normalize(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def _crop_to_frame(roi: HandRoi, out_size: int) -> np.ndarray:
    """2×3 affine matrix from crop pixels (0..out_size) to frame pixels."""
    c, s = math.cos(roi.angle), math.sin(roi.angle)
    k = roi.size / out_size
    rotation = np.array([[c, -s], [s, c]]) * k
    offset = np.array([roi.cx, roi.cy]) - rotation @ np.array([out_size / 2, out_size / 2])
    return np.hstack([rotation, offset[:, None]])


def warp(frame: np.ndarray, roi: HandRoi, out_size: int) -> np.ndarray:
    """The region `roi` of a frame as an `out_size`×`out_size` image; outside the frame is black."""
    matrix = _crop_to_frame(roi, out_size)
    shrink = roi.size / out_size
    if shrink > 2:  # a big region into a small crop: pre-shrink so the bilinear warp does not alias
        factor = 2 ** int(math.log2(shrink))
        small = cv2.resize(frame, (max(1, frame.shape[1] // factor), max(1, frame.shape[0] // factor)),
                           interpolation=cv2.INTER_AREA)
        scale = np.array([[small.shape[1] / frame.shape[1]], [small.shape[0] / frame.shape[0]]])
        matrix = matrix * scale
        frame = small
    return cv2.warpAffine(frame, matrix, (out_size, out_size), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def to_frame(points: np.ndarray, roi: HandRoi) -> np.ndarray:
    """Points in crop units (x, y in 0..1, optional z in crop widths) → frame pixels (z scaled alike)."""
    points = np.asarray(points, np.float32)
    matrix = _crop_to_frame(roi, 1)
    xy = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    if points.shape[1] == 2:
        return xy.astype(np.float32)
    return np.hstack([xy, points[:, 2:3] * roi.size]).astype(np.float32)


def whole_frame(shape: tuple[int, ...]) -> HandRoi:
    """The frame letterboxed into a square, as the palm detector sees it."""
    height, width = shape[:2]
    return HandRoi(width / 2, height / 2, float(max(height, width)), 0.0)


def _upright_angle(start: np.ndarray, end: np.ndarray) -> float:
    """The turn that makes the direction start → end point up the crop."""
    return _normalize(math.pi / 2 - math.atan2(-(end[1] - start[1]), end[0] - start[0]))


def _transformed(cx: float, cy: float, width: float, height: float, angle: float,
                 scale: float, shift_y: float) -> HandRoi:
    """MediaPipe's RectTransformation in pixels: shift along the turned y axis, square on the long side, scale."""
    cx += -height * shift_y * math.sin(angle)
    cy += height * shift_y * math.cos(angle)
    return HandRoi(cx, cy, max(width, height) * scale, angle)


def roi_from_palm(box: np.ndarray, keypoints: np.ndarray) -> HandRoi:
    """The hand's region from a palm box (cx, cy, w, h) and its 7 keypoints, in frame pixels."""
    angle = _upright_angle(keypoints[0], keypoints[2])  # wrist → base of the middle finger
    return _transformed(float(box[0]), float(box[1]), float(box[2]), float(box[3]), angle, scale=2.6, shift_y=-0.5)


def roi_from_landmarks(landmarks: np.ndarray) -> HandRoi:
    """The next frame's region from this frame's 21 landmarks (tracking)."""
    points = landmarks[_TRACKING_JOINTS, :2].astype(np.float64)
    wrist = points[0]
    knuckles = ((points[4] + points[8]) / 2 + points[6]) / 2  # joints 5, 13 and 9 of the full set
    angle = _upright_angle(wrist, knuckles)
    centre = (points.min(0) + points.max(0)) / 2
    c, s = math.cos(-angle), math.sin(-angle)
    turned = (points - centre) @ np.array([[c, s], [-s, c]])
    low, high = turned.min(0), turned.max(0)
    mid = (low + high) / 2
    c, s = math.cos(angle), math.sin(angle)
    cx = mid[0] * c - mid[1] * s + centre[0]
    cy = mid[0] * s + mid[1] * c + centre[1]
    width, height = high - low
    return _transformed(cx, cy, float(width), float(height), angle, scale=2.0, shift_y=-0.1)


def crop_roi(landmarks: np.ndarray, margin: float) -> HandRoi:
    """An upright square around all 21 landmarks, `margin` times their extent."""
    points = landmarks[:, :2]
    low, high = points.min(0), points.max(0)
    centre = (low + high) / 2
    return HandRoi(float(centre[0]), float(centre[1]), float(max(high - low)) * margin, 0.0)


def hand_crop(frame: np.ndarray, landmarks: np.ndarray, size: int, margin: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The classifier's view of a hand (training and serving alike): the `crop_roi` square at `size`×`size`,
    and that square in frame pixels (x0, y0, x1, y1)."""
    roi = crop_roi(landmarks, margin)
    half = roi.size / 2
    region = (int(roi.cx - half), int(roi.cy - half), int(roi.cx + half), int(roi.cy + half))
    return warp(frame, roi, size), region
