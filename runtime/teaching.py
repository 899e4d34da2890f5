"""A signer teaching a stream their own signs as they sign (the browser page's Teach, the live window's Tab then a
letter): `asl calibrate --camera` for one stream, with no file and no second camera loop.

A letter is named; after the settling time the next frames with a hand (`collect.LetterTaking`) are that letter's,
and once there are enough of them they join the stream's own profile (`SignerProfile.merged`), which every later
frame of that stream is read with. Other streams (other pages) are not touched.
"""
from __future__ import annotations

import base64

import numpy as np

from asl.runtime.collect import CollectConfig, LetterTaking
from asl.runtime.recognizer import ModelError, Prediction, RecognizerStream
from asl.runtime.signer_profile import ProfileError, SignerProfile
from asl.runtime.spelling import Speller

TEACHING = CollectConfig(letters=(), per_letter=3, settle=2.0, gap=0.3)   # as `asl calibrate --camera`'s defaults


class SignTeaching:
    """One stream's teaching: `start` a letter, `offer` each frame the stream predicts, `forget`, `saved`."""

    @staticmethod
    def possible(recognizer) -> bool:
        """Whether `recognizer`'s streams can be taught: its landmark classifier reads signer profiles."""
        return recognizer.landmarks is not None and recognizer.landmarks.hidden_size > 0

    def __init__(self, stream: RecognizerStream, cfg: CollectConfig = TEACHING):
        classifier = stream.recognizer.landmarks
        if classifier is None:
            raise ModelError("teaching a sign needs the tracked hand and its landmark classifier (not --hand box)")
        classifier.require_profiles()
        self.stream, self.classifier, self.cfg = stream, classifier, cfg
        self.letter: str | None = None
        self.taking: LetterTaking | None = None
        self.hidden: list[np.ndarray] = []

    @property
    def active(self) -> bool:
        """Whether a letter is being taught (the page types nothing meanwhile)."""
        return self.taking is not None

    def start(self, letter: str) -> dict:
        """Take pictures of `letter` from the next frames on; what the page shows meanwhile."""
        if letter not in self.classifier.classes or letter == "nothing":
            raise ModelError(f"cannot teach {letter!r}: choose one of {', '.join(c for c in self.classifier.classes if c != 'nothing')}")
        self.letter, self.taking, self.hidden = letter, LetterTaking(self.cfg), []
        return self.status()

    def forget(self) -> dict:
        """Back to the recognizer's own profile (none, or `--profile`'s): what this page was taught is gone."""
        self.stream.profile, self.letter, self.taking = None, None, None
        return {"teaching": None, "taught": self.classifier.profile.letters if self.classifier.profile else []}

    def offer(self, now: float, prediction: Prediction) -> dict | None:
        """The frame just predicted by the stream, at `now` seconds: kept when it should be; the page's status while
        a letter is being taught (None otherwise)."""
        if self.taking is None:
            return None
        if self.taking.offer(now, prediction.hand is not None):
            self.hidden.append(self.stream.recognizer.hidden([self.stream.last])[0])
        if not self.taking.done:
            return self.status(now)
        shown = SignerProfile.from_hidden(np.stack(self.hidden), np.full(len(self.hidden), self.classifier.classes.index(self.letter)),
                                          self.classifier.classes, self.classifier.fingerprint)
        base = self.stream.profile or self.classifier.profile
        self.stream.profile = shown if base is None else base.merged(shown)
        if self.stream.adaptive is not None:   # what it adapted to came from the readings just corrected
            self.stream.adaptive.clear()
        self.letter, self.taking = None, None
        return {"teaching": None, "taught": self.stream.profile.letters}

    def saved(self) -> dict:
        """This page's profile as a file's contents (base64), for `--profile` of `asl live` and the rest."""
        profile = self.stream.profile or self.classifier.profile
        if profile is None:
            raise ProfileError("no sign has been taught yet: nothing to save")
        return {"profile": base64.b64encode(profile.to_bytes()).decode("ascii"), "signs": profile.letters}

    def status(self, now: float | None = None) -> dict:
        return {"teaching": {"letter": self.letter, "kept": self.taking.kept, "of": self.cfg.per_letter,
                             "taking": now is not None and self.taking.taking(now)}}


def spell_frame(speller: Speller, teaching: SignTeaching | None, prediction: Prediction, now: float) -> tuple[str | None, dict | None]:
    """One frame of a stream that can be taught (the live window, a browser page): the sign it types, if any, and
    the teaching status. A frame of a sign being taught is offered to `teaching` and pauses the speller: that sign
    is not typed, nor what was held just before it."""
    if teaching is not None and teaching.active:
        speller.pause()
        return None, teaching.offer(now, prediction)
    return speller.update(prediction, now), None
