"""A hand's shape as numbers the classifier reads: the 21 landmarks with position, size and
handedness taken out and orientation kept, plus how each finger bends.

H and U, K and P, G and Q differ mainly in how the hand is turned, so the landmarks are not
rotated upright. The bends (angles between bones, distances between fingertips, from the world
landmarks) do not depend on the turn or on the signer's hand size: they carry the finger shape
alone. Left hands are mirrored to right hands. Training and serving both call
`landmark_features`: there is no second version of this step.

Beside them the classifier can read the hand landmark model's embedding (its pooled features, that
all its heads read), taken as a right hand gives it: for a left hand, that of its crop mirrored
(`as_right_hand`).
"""
from __future__ import annotations

import numpy as np

FINGER_BASES = (1, 5, 9, 13, 17)   # thumb … little finger: joints base, base+1, base+2, base+3 (the tip)
TIPS = tuple(b + 3 for b in FINGER_BASES)
_TIP_PAIRS = [(a, b) for i, a in enumerate(TIPS) for b in TIPS[i + 1:]]
BENDS = 3 * len(FINGER_BASES) + len(FINGER_BASES) - 1 + len(_TIP_PAIRS)   # 15 joint bends, 4 finger spreads, 10 tip gaps
FEATURES = 2 * 21 * 3 + BENDS   # image and world landmarks (21 joints × x, y, z each), then the bends


def _normalised(points: np.ndarray) -> np.ndarray:
    """Wrist at the origin, the hand's largest x/y extent scaled to 1."""
    points = points - points[:, :1]
    extent = np.ptp(points[:, :, :2], axis=1).max(axis=1)
    return points / np.maximum(extent, 1e-6)[:, None, None]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-6)


def bends(world: np.ndarray) -> np.ndarray:
    """N×BENDS: cosines between each finger's successive bones, between neighbouring fingers'
    directions (knuckle → tip), and fingertip distances over the palm's length (wrist → middle knuckle)."""
    chains = np.array([[0, b, b + 1, b + 2, b + 3] for b in FINGER_BASES])          # 5 fingers × 5 joints
    bones = _unit(world[:, chains[:, 1:]] - world[:, chains[:, :-1]])               # N×5×4×3
    joint = (bones[:, :, 1:] * bones[:, :, :-1]).sum(-1).reshape(len(world), 15)      # N×15
    direction = _unit(world[:, list(TIPS)] - world[:, list(FINGER_BASES)])          # N×5×3
    spread = (direction[:, 1:] * direction[:, :-1]).sum(-1)                          # N×4
    palm = np.maximum(np.linalg.norm(world[:, 9] - world[:, 0], axis=-1), 1e-6)[:, None]
    gaps = np.stack([np.linalg.norm(world[:, a] - world[:, b], axis=-1) for a, b in _TIP_PAIRS], 1) / palm
    return np.concatenate([joint, spread, gaps], axis=1)


def landmark_features(landmarks: np.ndarray, world: np.ndarray, left: np.ndarray) -> np.ndarray:
    """N×FEATURES float32 from N×21×3 image landmarks (pixels), N×21×3 world landmarks and N P(left hand)."""
    landmarks = np.asarray(landmarks, np.float32).reshape(-1, 21, 3)
    world = np.asarray(world, np.float32).reshape(-1, 21, 3)
    mirror = np.where(np.asarray(left, np.float32).reshape(-1) >= 0.5, -1.0, 1.0).astype(np.float32)
    image, normal_world = _normalised(landmarks), _normalised(world)
    image[:, :, 0] *= mirror[:, None]
    normal_world[:, :, 0] *= mirror[:, None]
    return np.concatenate([image.reshape(-1, 63), normal_world.reshape(-1, 63), bends(world)], axis=1).astype(np.float32)


def as_right_hand(embeddings: np.ndarray, left: np.ndarray) -> np.ndarray:
    """N×D float32 from N×2×D embeddings (as read, mirrored): the mirrored one where P(left hand) ≥ 0.5."""
    embeddings = np.asarray(embeddings)
    mirrored = (np.asarray(left).reshape(-1) >= 0.5).astype(np.int64)
    return embeddings[np.arange(len(embeddings)), mirrored].astype(np.float32)
