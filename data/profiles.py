"""`asl calibrate`: a signer profile from a folder of the user's own signs (class folders, as the data sets)."""
from __future__ import annotations

import os

import numpy as np

from asl.data import CLASSES
from asl.data.folders import DataError, find_images
from asl.data.hand_cache import CROP_SIZE, SetHands, track_set
from asl.runtime.landmark_classifier import LandmarkClassifier
from asl.runtime.progress import Progress
from asl.runtime.recognizer import CROP_MARGIN
from asl.runtime.signer_profile import SignerProfile
from asl.runtime.tracker import HandTracker


def first_per_letter(labels: np.ndarray, rows: np.ndarray, per_letter: int | None) -> np.ndarray:
    """`rows` (in frame order) cut to the first `per_letter` of each class (all with None)."""
    if per_letter is None:
        return rows
    keep = [rows[labels[rows] == c][:per_letter] for c in np.unique(labels[rows])]
    return np.sort(np.concatenate(keep)) if keep else rows[:0]


def profile_of(classifier: LandmarkClassifier, hands: SetHands, rows: np.ndarray, labels: np.ndarray,
               reads_embedding: bool) -> SignerProfile:
    """The profile of the hands at `rows` (found ones only), labelled with indices into the classifier's classes."""
    rows = rows[hands.found[rows]]
    if not len(rows):
        raise DataError("no hand was found in any of the pictures: nothing to make a profile of")
    hidden = classifier.hidden(*hands.classifier_inputs(rows, reads_embedding))
    return SignerProfile.from_hidden(hidden, labels[rows], classifier.classes, classifier.fingerprint)


def build_profile(root: str | os.PathLike, classifier: LandmarkClassifier, tracker: HandTracker,
                  per_letter: int | None = None, progress: Progress | None = None, use_cache: bool = True) -> SignerProfile:
    """The profile of the signs in `root` (class folders; in each, the first `per_letter` pictures with a hand
    found, in frame order, or all), read by `tracker` as the runtime reads them (its hands cached like any
    set's unless `use_cache` is False: pictures just taken, in a folder about to go)."""
    classifier.require_profiles()   # before the tracking, not after it
    image_set = find_images(root)
    if not image_set.samples:
        raise DataError(f"no readable images in {root}")
    unknown = {CLASSES[s.label] for s in image_set.samples} - set(classifier.classes)
    if unknown:
        raise DataError(f"the landmark classifier does not know the classes {sorted(unknown)} found in {root}")
    hands = track_set(image_set, tracker, CROP_SIZE, CROP_MARGIN, use_cache=use_cache, progress=progress)
    labels = np.array([classifier.classes.index(CLASSES[image_set.samples[i].label]) for i in hands.kept], np.int64)
    rows = first_per_letter(labels, np.flatnonzero(hands.found), per_letter)
    return profile_of(classifier, hands, rows, labels, classifier.reads_embedding_of(tracker))
