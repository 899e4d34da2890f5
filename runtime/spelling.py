"""Fingerspelling: time-stamped predictions in, typed text out.

A camera gives shaky frames: motion blur, a finger in transition, a probability that dips for a
frame or two while the classifier is right. So a sign is decided on evidence over a short window,
not on an unbroken run of frames:

- **window**: each class's probability is averaged over the frames of the last `window` seconds
  (a frame's top-k; a frame with no hand counts as `nothing`).
- **candidate**: the window's top class becomes the candidate once its average reaches
  `min_probability`, and stays the candidate until its average falls below `keep_probability`
  or another class becomes clear (hysteresis: a dip does not reset the hold, a one-frame flicker
  of another sign never becomes clear).
- **typed**: a candidate held for `hold` seconds is typed once: a letter, `space` types a space,
  `del` deletes the last character, `nothing` types nothing.
- **release**: the same sign is typed again only after it stopped being the candidate for
  `release` seconds (a dip below `keep_probability`, `nothing`, another sign, or the hand leaving):
  a shorter lapse, such as a frame or two without the hand, does not type it twice.

Window and hold are in seconds and every frame carries its time, so 10 and 60 frames/s spell alike.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

NOTHING = "nothing"


@dataclass
class SpellerConfig:
    # Chosen on the words benchmark (benchmarks/words.py). hold >= window: a single frame never types.
    window: float = 0.4             # seconds of frames whose probabilities are averaged
    hold: float = 0.4               # seconds the window's top class must stay the candidate to be typed
    min_probability: float = 0.3    # window average a class needs to become the candidate (of 29 classes)
    keep_probability: float = 0.15  # below this window average the candidate is dropped
    release: float = 0.3            # seconds a typed sign must stop being the candidate before it can be typed again


class Speller:
    """Feed it one prediction per frame with the frame's time; read `text`, `candidate`, `progress`."""

    def __init__(self, config: SpellerConfig | None = None):
        self.config = config or SpellerConfig()
        self.reset()

    def reset(self) -> None:
        self.text = ""
        self._frames: deque[tuple[float, dict[str, float]]] = deque()
        self._candidate: str | None = None
        self._since = 0.0          # when the candidate became the candidate
        self._typed: str | None = None   # the sign typed last, until it is released
        self._away = 0.0           # since when the candidate has not been the sign typed last
        self._now = 0.0

    def pause(self) -> None:
        """Forget the frames seen and the candidate, not the text: what comes next is spelled afresh (while a
        sign is being taught, say, nothing is typed, and nothing from before it is typed after it)."""
        self._frames.clear()
        self._candidate, self._typed = None, None

    @property
    def candidate(self) -> str | None:
        """The sign the window currently favours (typed already or not), or None."""
        return self._candidate

    @property
    def progress(self) -> float:
        """How far the candidate is towards being typed (0..1); 0 once typed, for a live progress bar."""
        if self._candidate is None or self._candidate == self._typed:
            return 0.0
        if self.config.hold <= 0:
            return 1.0
        return min(1.0, (self._now - self._since) / self.config.hold)

    def update(self, prediction, t: float | None = None) -> str | None:
        """Feed one frame: a Prediction (label, probability, top_k), or None when no hand is seen.

        `t` is the frame's time in seconds (a video's frame index / fps, a camera's clock);
        default: now. Returns the sign typed by this frame, if any.
        """
        t = time.monotonic() if t is None else float(t)
        self._now = t
        self._frames.append((t, _probabilities(prediction)))
        while len(self._frames) > 1 and self._frames[0][0] <= t - self.config.window + 1e-6:
            self._frames.popleft()
        mean: dict[str, float] = {}
        for _, probabilities in self._frames:
            for name, p in probabilities.items():
                mean[name] = mean.get(name, 0.0) + p / len(self._frames)
        top = max(mean, key=mean.get)
        if mean[top] >= self.config.min_probability and top != self._candidate:
            self._candidate, self._since = top, t
        elif self._candidate is not None and mean.get(self._candidate, 0.0) < self.config.keep_probability:
            self._candidate = None
        if self._candidate == self._typed:
            self._away = t
        elif self._typed is not None and t - self._away >= self.config.release - 1e-6:
            self._typed = None  # released: the sign typed last has not been held for `release` seconds
        if self._candidate is None or self._candidate == self._typed or t - self._since < self.config.hold - 1e-6:
            return None
        return self._type(self._candidate)

    def _type(self, sign: str) -> str:
        self._typed, self._away = sign, self._now
        if sign == "space":
            self.text += " "
        elif sign == "del":
            self.text = self.text[:-1]
        elif sign != NOTHING:
            self.text += sign
        return sign


def _probabilities(prediction) -> dict[str, float]:
    """A frame's evidence: its top-k probabilities; no hand is certain `nothing`."""
    if prediction is None:
        return {NOTHING: 1.0}
    top_k = getattr(prediction, "top_k", None) or [(prediction.label, prediction.probability)]
    return {name: float(p) for name, p in top_k}
