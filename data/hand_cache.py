"""Every picture of a set through the hand tracker once: landmarks, handedness and the hand crop.

Training and evaluation read hands exactly as the runtime does (HandTracker.detect, then
hand_crop), and the result is cached per set like the decode cache, so epochs and repeated
evaluations never run the tracker again.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl.data.cache import default_cache_dir, set_key
from asl.data.folders import DataError, ImageSet, find_images
from asl.data.split import training_parts
from asl.runtime.files import atomic_path
from asl.runtime.hand_features import as_right_hand
from asl.runtime.hand_roi import hand_crop
from asl.runtime.image import ImageError, read_image
from asl.runtime.progress import Progress
from asl.runtime.tracker import HandTracker

CROP_SIZE = 96   # the hand crops cached beside the landmarks (training, hand-crops and the validation report)
CACHE_VERSION = 7   # 2: pictures without a palm read whole; 3: landmarks settled (HandTracker.settle); 4: brightened search;
#                     5: a second, stronger brightening; 6: whole brightened pictures read; 7: the landmark model's embeddings


@dataclass
class SetHands:
    """Per readable picture of a set (rows align with `kept`, indices into the set's samples)."""

    crops: np.ndarray      # N×S×S×3 uint8 BGR: the hand crop, black where no hand was found
    found: np.ndarray      # N bool
    landmarks: np.ndarray  # N×21×3 float32, picture pixels (zeros where no hand)
    world: np.ndarray      # N×21×3 float32, metres
    left: np.ndarray       # N float32, P(left hand) as the camera sees it
    presence: np.ndarray   # N float32
    kept: np.ndarray       # N int64
    embeddings: np.ndarray  # N×2×D float16: the landmark model's embedding of the crop as read and mirrored

    def __len__(self) -> int:
        return len(self.kept)

    def classifier_inputs(self, rows: np.ndarray, with_embedding: bool) -> tuple:
        """(landmarks, world, left, embeddings) of `rows` as the landmark classifier reads them: the embedding as
        a right hand gives it (a left hand's from its crop mirrored), or None when it reads the joints alone."""
        embeddings = as_right_hand(self.embeddings[rows], self.left[rows]) if with_embedding else None
        return self.landmarks[rows], self.world[rows], self.left[rows], embeddings


def _read_one(tracker: HandTracker, path: Path, size: int, margin: float):
    try:
        image = read_image(path)
    except ImageError:
        return None
    hand = tracker.detect(image)
    if hand is None:
        return np.zeros((size, size, 3), np.uint8), None, None
    embeddings = tracker.embeddings(image, hand) if hand.embedding is not None else None
    return hand_crop(image, hand.landmarks, size, margin)[0], hand, embeddings


def track_set(image_set: ImageSet, tracker: HandTracker, size: int, margin: float, cache_dir: Path | None = None,
              use_cache: bool = True, progress: Progress | None = None, workers: int | None = None) -> SetHands:
    """The set's hands (cached); unreadable files are dropped and counted in `image_set.skipped`."""
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    key = set_key(image_set, f"hands-v{CACHE_VERSION}:{size}:{margin}:{'/'.join(tracker.variants)}")
    cache_file = cache_dir / f"{image_set.name}-hands-{size}px-{key}.npz"
    if use_cache and cache_file.exists():
        with np.load(cache_file) as stored:
            hands = SetHands(**{name: stored[name] for name in SetHands.__dataclass_fields__})
    else:
        hands = _track(image_set, tracker, size, margin, progress, workers)
        if use_cache:
            with atomic_path(cache_file) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **hands.__dict__)
    unreadable = len(image_set.samples) - len(hands)
    if unreadable:
        image_set.skipped["unreadable"] = unreadable
    return hands


def _track(image_set: ImageSet, tracker: HandTracker, size: int, margin: float, progress: Progress | None,
           workers: int | None) -> SetHands:
    total = len(image_set.samples)
    results = []
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        for done, result in enumerate(pool.map(lambda s: _read_one(tracker, s.path, size, margin), image_set.samples), 1):
            results.append(result)
            if progress:
                progress(f"tracking hands in {image_set.name}", done, total)
    kept = [i for i, r in enumerate(results) if r is not None]
    rows = [results[i] for i in kept]
    n = len(rows)
    width = tracker.embedding_size
    hands = SetHands(np.zeros((n, size, size, 3), np.uint8), np.zeros(n, bool), np.zeros((n, 21, 3), np.float32),
                     np.zeros((n, 21, 3), np.float32), np.zeros(n, np.float32), np.zeros(n, np.float32),
                     np.array(kept, np.int64), np.zeros((n, 2, width), np.float16))
    for row, (crop, hand, embeddings) in enumerate(rows):
        hands.crops[row] = crop
        if hand is not None:
            hands.found[row] = True
            hands.landmarks[row], hands.world[row] = hand.landmarks, hand.world
            hands.left[row], hands.presence[row] = hand.left, hand.presence
            if width:
                hands.embeddings[row] = embeddings
    return hands


@dataclass
class HandSet:
    """A labelled set through the tracker, with its frame-block split (indices into the rows of `hands`)."""

    name: str
    root: Path
    hands: SetHands
    labels: np.ndarray     # N int64 indices into CLASSES
    train: np.ndarray
    val: np.ndarray
    skipped: dict


def load_hand_set(root: str | os.PathLike, tracker: HandTracker, size: int, margin: float, val_fraction: float = 0.2,
                  progress: Progress | None = None, held_out: bool = False) -> HandSet:
    image_set = find_images(root)
    hands = track_set(image_set, tracker, size, margin, progress=progress)
    if len(hands) == 0:
        raise DataError(f"no readable images in {root}")
    train, val = training_parts(image_set, list(hands.kept), val_fraction, held_out)
    kept = [image_set.samples[i] for i in hands.kept]
    return HandSet(image_set.name, Path(root), hands, np.array([s.label for s in kept], np.int64),
                   np.array(train, np.int64), np.array(val, np.int64), dict(image_set.skipped))


def write_crops(hand_set: HandSet, out_dir: str | os.PathLike, every: int = 1, quality: int = 90) -> int:
    """The set's tracked hand crops as a class-folder set (JPEG, frame order kept in the names), so the
    crop classifier trains with `asl train` on exactly what the runtime gives it. Pictures without a
    hand are left out (the runtime answers `nothing` for them). Returns the number written."""
    import cv2

    from asl.data.classes import CLASSES

    out_dir = Path(out_dir)
    written = 0
    for row in range(0, len(hand_set.labels), every):
        if not hand_set.hands.found[row]:
            continue
        folder = out_dir / CLASSES[hand_set.labels[row]]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{row:06d}.jpg"), hand_set.hands.crops[row], [cv2.IMWRITE_JPEG_QUALITY, quality])
        written += 1
    return written
