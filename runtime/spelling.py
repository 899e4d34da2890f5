"""Fingerspelling: per-frame predictions in, typed text out.

A sign is committed once it has been held for `hold_frames` frames in a row at `min_probability`
or more. `nothing` types nothing, `space` types a space, `del` deletes the last character. After
a commit the same sign needs a break (`break_frames` frames of anything else) before it can be
committed again, so holding "L" types one L and "HELLO" needs the hand to move between the Ls.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SpellerConfig:
    hold_frames: int = 8
    min_probability: float = 0.6
    break_frames: int = 4


class Speller:
    def __init__(self, config: SpellerConfig | None = None):
        self.config = config or SpellerConfig()
        self.text = ""
        self._candidate: str | None = None
        self._run = 0
        self._committed: str | None = None
        self._gap = 0

    def reset(self) -> None:
        self.__init__(self.config)

    @property
    def progress(self) -> float:
        """How far the current sign is towards being committed (0..1), for a live progress bar."""
        if self._candidate is None or self._committed is not None:
            return 0.0
        return min(1.0, self._run / self.config.hold_frames)

    def update(self, label: str, probability: float) -> str | None:
        """Feed one frame's prediction; returns the sign committed by this frame, if any."""
        sign = label if probability >= self.config.min_probability else None
        if sign == self._candidate:
            self._run += 1
        else:
            self._candidate, self._run = sign, 1
        if self._committed is not None:
            self._gap = 0 if sign == self._committed else self._gap + 1
            if self._gap >= self.config.break_frames:
                self._committed = None
        if sign is None or self._committed is not None or self._run < self.config.hold_frames:
            return None
        self._committed = sign
        self._gap = 0
        if sign == "space":
            self.text += " "
        elif sign == "del":
            self.text = self.text[:-1]
        elif sign != "nothing":
            self.text += sign
        return sign
