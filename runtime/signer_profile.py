"""A signer profile: a user's own signs, a few pictures a letter, as the landmark classifier sees them.

Held-out signers make some letters their own way (webcam_wall's T has the shape of an L, classroom's O
reads as E) and no amount of other people's data teaches those. A profile keeps, per letter, the mean
direction of the user's hands in the classifier's last hidden layer; at run time each hand's
similarity to those prototypes votes beside the classifier (`SignerProfile.adjust`). Measured on the
ten leave-one-set-out rows (`asl bench-profile`, README "A signer profile").
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl.runtime.errors import AslError
from asl.runtime.files import write_atomic

# Chosen on the leave-one-set-out rows, landmarks alone (README, "A signer profile"). A held-out hand's
# similarity to its own letter's prototype: median 0.96, 10th percentile 0.70; to the nearest other letter's:
# median 0.56, 90th percentile 0.80. With half the letters shown, NOT_SHOWN 0.6 / 0.7 / 0.8 read the other
# half at 86.2 / 90.0 / 92.3% (91.0% without a profile) and a full profile at 94.9 / 94.4 / 93.5% (90.1%).
TEMPERATURE = 0.05
WEIGHT = 2.0
NOT_SHOWN = 0.7
# `live --adapt`: a letter is adapted to once this many of the session's hands were read as it (README, "Adapting
# to the signer": in a letter-by-letter stream, a letter read a few times is mostly a misreading).
MIN_LIVE_HANDS = 10
FORMAT = "asl.signer_profile/1"


class ProfileError(AslError, ValueError):
    """A profile file that is missing, unreadable, or made with another landmark classifier."""


def fingerprint(path: str | os.PathLike) -> str:
    """The identity of a landmark classifier file: a profile is only valid for the one that made it."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / (np.linalg.norm(rows, axis=-1, keepdims=True) + 1e-9)


@dataclass
class SignerProfile:
    classes: list[str]        # the classifier's classes, in its output order
    prototypes: np.ndarray    # classes×H float32: the mean unit direction of the user's hands (zeros: not shown)
    counts: np.ndarray        # classes int: how many of the user's hands each prototype averages
    classifier: str           # `fingerprint` of the landmark classifier that made it

    @classmethod
    def from_hidden(cls, hidden: np.ndarray, labels: np.ndarray, classes: list[str], classifier: str) -> "SignerProfile":
        """The profile of N hands' hidden layers (N×H) with their class indices."""
        hidden, labels = _unit(np.asarray(hidden, np.float32)), np.asarray(labels)
        counts = np.bincount(labels, minlength=len(classes))[:len(classes)]
        prototypes = np.zeros((len(classes), hidden.shape[1]), np.float32)
        np.add.at(prototypes, labels, hidden)
        return cls(list(classes), _unit(prototypes) * (counts > 0)[:, None], counts.astype(np.int64), classifier)

    def merged(self, other: "SignerProfile") -> "SignerProfile":
        """This profile with `other`'s pictures added (`asl calibrate --add`): a letter in one of them keeps its
        prototype, a letter in both averages the two by their picture counts."""
        if other.classifier != self.classifier or other.classes != self.classes:
            raise ProfileError("the two signer profiles were made with different landmark classifiers: make the new one "
                               "with the model that made the first")
        counts = self.counts + other.counts
        summed = self.prototypes * self.counts[:, None] + other.prototypes * other.counts[:, None]
        return SignerProfile(self.classes, _unit(summed) * (counts > 0)[:, None], counts, self.classifier)

    @property
    def letters(self) -> list[str]:
        """The classes the user showed."""
        return [c for c, n in zip(self.classes, self.counts) if n]

    def adjust(self, log_probabilities: np.ndarray, hidden: np.ndarray) -> np.ndarray:
        """The classifier's N×classes log-probabilities plus `WEIGHT` × the profile's vote: a softmax over the
        letters shown (cosine similarity / `TEMPERATURE`) and one more choice, "none of them", at similarity
        `NOT_SHOWN`, whose share every letter not shown gets. A hand much like one of the user's signs is read
        as it; a hand like none of them leaves the letters not shown as the classifier reads them."""
        shown = self.counts > 0
        if not shown.any():
            return log_probabilities
        similarity = _unit(np.asarray(hidden, np.float32)) @ self.prototypes[shown].T / TEMPERATURE
        total = np.logaddexp(np.logaddexp.reduce(similarity, axis=1, keepdims=True), NOT_SHOWN / TEMPERATURE)
        vote = np.repeat(NOT_SHOWN / TEMPERATURE - total, len(self.classes), axis=1)
        vote[:, shown] = similarity - total
        return log_probabilities + WEIGHT * vote

    def save(self, path: str | os.PathLike) -> Path:
        return write_atomic(path, self.to_bytes())

    def to_bytes(self) -> bytes:
        """The profile file's contents (`save`; the browser page's Save)."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, prototypes=self.prototypes, counts=self.counts,
                            meta=np.array(json.dumps({"format": FORMAT, "classes": self.classes, "classifier": self.classifier})))
        return buffer.getvalue()

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SignerProfile":
        path = Path(path)
        if not path.is_file():
            raise ProfileError(f"signer profile not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                prototypes, counts = z["prototypes"].astype(np.float32), z["counts"].astype(np.int64)
        except Exception as err:
            raise ProfileError(f"cannot read signer profile {path}: {str(err).strip().splitlines()[0] if str(err) else type(err).__name__}") from None
        if meta.get("format") != FORMAT or prototypes.shape[0] != len(meta.get("classes", [])) or len(counts) != len(prototypes):
            raise ProfileError(f"{path} is not a signer profile from `asl calibrate`")
        return cls(list(meta["classes"]), prototypes, counts, str(meta["classifier"]))


class AdaptiveProfile:
    """One signer's hands, unlabelled, as a profile that grows (`--adapt`): each hand added stands for the letter it
    is read as, and a letter joins the profile once `min_hands` of them were. Read again with it, a hand joins the
    letters its signer's other hands like it were read as.

    Measured on the leave-one-set-out rows (README, "Adapting to the signer"): a whole folder read at once
    (`min_hands` 1) gains 2.1 points; a camera's frames, a letter at a time, lose 3.6–4.5 points at 100–200
    hands with every letter counted and at most 0.1 with `MIN_LIVE_HANDS`, then gain 0.8–1.5 points at 400–800
    hands (words typed exactly: 72.5% → 77.2%).
    """

    def __init__(self, classes: list[str], hidden_size: int, classifier: str, min_hands: int = 1):
        self.classes, self.classifier, self.min_hands = list(classes), classifier, min_hands
        self.sums = np.zeros((len(classes), hidden_size), np.float32)
        self.counts = np.zeros(len(classes), np.int64)

    def clear(self) -> None:
        """Start afresh: forget every hand added (its readings were wrong: a sign has just been taught)."""
        self.sums[:] = 0
        self.counts[:] = 0

    @property
    def letters(self) -> list[str]:
        """The letters adapted to so far."""
        return [c for c, n in zip(self.classes, self.counts) if n >= self.min_hands]

    def add(self, hidden: np.ndarray, scores: np.ndarray) -> SignerProfile:
        """Add N hands (N×H hidden layers) read as the best of their N×classes `scores`; the profile so far."""
        labels = np.asarray(scores).argmax(1)
        np.add.at(self.sums, labels, _unit(np.asarray(hidden, np.float32)))
        self.counts += np.bincount(labels, minlength=len(self.classes))[:len(self.classes)]
        shown = self.counts >= self.min_hands
        return SignerProfile(self.classes, _unit(self.sums) * shown[:, None], self.counts * shown, self.classifier)
