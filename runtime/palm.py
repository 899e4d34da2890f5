"""MediaPipe's palm detector in ONNX Runtime: anchors, box decoding and weighted non-max suppression.

The model sees the whole frame letterboxed into 192×192 and answers 2016 anchor boxes, each with
a score and seven palm keypoints; `detect` turns them into palms in frame pixels, best first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asl.runtime.hand_roi import HandRoi, roi_from_palm, to_frame, warp, whole_frame

INPUT_SIZE = 192
MIN_SCORE = 0.5          # MediaPipe's min_detection_confidence
NMS_IOU = 0.3


@dataclass(frozen=True)
class Palm:
    score: float
    box: np.ndarray        # cx, cy, w, h in frame pixels
    keypoints: np.ndarray  # 7×2 in frame pixels: wrist, index base, middle base, ring base, pinky base, thumb ×2

    @property
    def roi(self) -> HandRoi:
        return roi_from_palm(self.box, self.keypoints)


def ssd_anchors(size: int = INPUT_SIZE, strides: tuple[int, ...] = (8, 16, 16, 16)) -> np.ndarray:
    """Anchor centres (N×2, in 0..1) of MediaPipe's SSD anchor options for the palm models.

    Layers that share a stride share a grid; each layer puts two anchors on every cell, and
    all anchors have unit size (fixed_anchor_size), so only centres matter.
    """
    centres = []
    layer = 0
    while layer < len(strides):
        stride, per_cell = strides[layer], 0
        while layer < len(strides) and strides[layer] == stride:
            per_cell += 2
            layer += 1
        cells = -(-size // stride)
        y, x = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([x.ravel(), y.ravel()], 1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (x0, y0, x1, y1) box with many."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(scores: np.ndarray, corners: np.ndarray, keypoints: np.ndarray,
                 iou: float = NMS_IOU) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's weighted NMS: each cluster of overlapping boxes becomes their score-weighted mean."""
    order = np.argsort(-scores)
    scores, corners, keypoints = scores[order], corners[order], keypoints[order]
    out = []
    remaining = np.arange(len(scores))
    while len(remaining):
        overlap = _iou(corners[remaining[0]], corners[remaining]) > iou
        cluster, remaining = remaining[overlap], remaining[~overlap]
        weights = scores[cluster][:, None]
        total = weights.sum()
        out.append((float(scores[cluster[0]]), (corners[cluster] * weights).sum(0) / total,
                    (keypoints[cluster] * weights[:, :, None]).sum(0) / total))
    return out


class PalmDetector:
    """Palms in a BGR frame, from an ONNX Runtime session of `palm_detection_{lite,full}.onnx`."""

    def __init__(self, session, min_score: float = MIN_SCORE):
        self.session = session
        self.min_score = min_score
        self.anchors = ssd_anchors()
        self._input = session.get_inputs()[0].name

    def detect(self, frame: np.ndarray, zoom_out: float = 1.0) -> list[Palm]:
        """Every palm above `min_score`, best first (frame pixels).

        `zoom_out` > 1 shows the detector the frame smaller, inside a black border: a hand that
        fills the whole picture is too big for it otherwise.
        """
        full = whole_frame(frame.shape)
        roi = HandRoi(full.cx, full.cy, full.size * zoom_out)
        crop = warp(frame, roi, INPUT_SIZE)
        tensor = (crop[None, :, :, ::-1].astype(np.float32) / 255.0)  # RGB in 0..1, as MediaPipe feeds it
        raw_boxes, raw_scores = self.session.run(["boxes", "scores"], {self._input: tensor})
        raw_boxes, raw_scores = raw_boxes[0], raw_scores[0, :, 0]
        keep = raw_scores > np.log(self.min_score / (1 - self.min_score))  # sigmoid(score) > min_score
        if not keep.any():
            return []
        scores = 1 / (1 + np.exp(-np.clip(raw_scores[keep], -100, 100)))
        raw, anchors = raw_boxes[keep] / INPUT_SIZE, self.anchors[keep]
        centres = raw[:, :2] + anchors
        half = raw[:, 2:4] / 2
        corners = np.hstack([centres - half, centres + half])
        keypoints = raw[:, 4:18].reshape(-1, 7, 2) + anchors[:, None, :]
        palms = []
        for score, box, points in weighted_nms(scores, corners, keypoints):
            ends = to_frame(box.reshape(2, 2), roi)  # angle 0: corners stay corners
            centre, size = (ends[0] + ends[1]) / 2, ends[1] - ends[0]
            palms.append(Palm(score, np.array([*centre, *size], np.float32), to_frame(points, roi)))
        return palms
