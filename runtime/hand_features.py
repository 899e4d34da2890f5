"""A hand's shape as numbers the classifier reads: the 21 landmarks with position, size and
handedness taken out and orientation kept.

H and U, K and P, G and Q differ mainly in how the hand is turned, so the features are not
rotated upright. Left hands are mirrored to right hands. Training and serving both call
`landmark_features`: there is no second version of this step.
"""
from __future__ import annotations

import numpy as np

FEATURES = 2 * 21 * 3   # image landmarks and world landmarks, 21 joints × (x, y, z) each


def _normalised(points: np.ndarray) -> np.ndarray:
    """Wrist at the origin, the hand's largest x/y extent scaled to 1."""
    points = points - points[:, :1]
    extent = np.ptp(points[:, :, :2], axis=1).max(axis=1)
    return points / np.maximum(extent, 1e-6)[:, None, None]


def landmark_features(landmarks: np.ndarray, world: np.ndarray, left: np.ndarray) -> np.ndarray:
    """N×126 float32 from N×21×3 image landmarks (pixels), N×21×3 world landmarks and N P(left hand)."""
    landmarks = np.asarray(landmarks, np.float32).reshape(-1, 21, 3)
    world = np.asarray(world, np.float32).reshape(-1, 21, 3)
    mirror = np.where(np.asarray(left, np.float32).reshape(-1) >= 0.5, -1.0, 1.0).astype(np.float32)
    image, world = _normalised(landmarks), _normalised(world)
    image[:, :, 0] *= mirror[:, None]
    world[:, :, 0] *= mirror[:, None]
    return np.concatenate([image.reshape(-1, 63), world.reshape(-1, 63)], axis=1).astype(np.float32)
