"""Pictures of a user's own signs from a camera or a video, letter by letter (`asl calibrate --camera`; the rule
for which frames to keep also serves `teaching.SignTeaching`).

Each letter is asked for in turn (`on_prompt`); after `settle` seconds to form the sign, the next
`per_letter` frames in which a hand is seen, `gap` seconds apart, are kept (`LetterTaking`); `collect_signs`
writes them as `<out>/<letter>/<n>.jpg`: a class-folder set, which `asl calibrate` then reads as it reads any
folder of signs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from asl.runtime.files import OutputError
from asl.runtime.sources import Source, SourceError
from asl.runtime.tracker import Hand

# (frame, hand or None, letter asked for, pictures kept of it, whether pictures are being taken) → False to stop
FrameCallback = Callable[[np.ndarray, Hand | None, str, int, bool], bool]


@dataclass(frozen=True)
class CollectConfig:
    letters: tuple[str, ...]
    per_letter: int = 3
    settle: float = 2.0   # seconds after each prompt before pictures are taken: time to form the sign
    gap: float = 0.3      # seconds between two pictures of one letter, so they are not one frame twice


@dataclass
class LetterTaking:
    """One letter's pictures being taken: which frames to keep, by their time in seconds."""
    cfg: CollectConfig
    start: float | None = None
    last: float | None = None
    kept: int = 0

    def taking(self, now: float) -> bool:
        """Whether the settling time is over (frame times are sums of 1 / fps: rounding allowed for)."""
        self.start = now if self.start is None else self.start
        return now - self.start >= self.cfg.settle - 1e-6

    def offer(self, now: float, hand_seen: bool) -> bool:
        """Whether the frame at `now` is kept: the settling time over, a hand seen, `gap` after the last one kept."""
        if not (self.taking(now) and hand_seen and (self.last is None or now - self.last >= self.cfg.gap - 1e-6)):
            return False
        self.kept, self.last = self.kept + 1, now
        return True

    @property
    def done(self) -> bool:
        return self.kept >= self.cfg.per_letter


def collect_signs(source: Source, find_hand: Callable[[np.ndarray], Hand | None], cfg: CollectConfig, out_dir: Path,
                  on_prompt: Callable[[str, int], None] | None = None, on_frame: FrameCallback | None = None) -> dict[str, int]:
    """Pictures of each of `cfg.letters` into `out_dir`; returns how many of each. `find_hand` reads a frame
    (video tracking: `HandTrack.update`). A source that ends, or `on_frame` returning False, before every
    letter is done raises SourceError."""
    letters = list(cfg.letters)
    done: dict[str, int] = {}
    taking = LetterTaking(cfg)
    if on_prompt:
        on_prompt(letters[0], 0)
    for index, frame in enumerate(source):
        if frame.image is None:
            continue
        # A camera's frames are timed by the clock, a file's by their place in it.
        now = time.monotonic() if source.realtime else index / source.fps
        hand = find_hand(frame.image)
        letter = letters[len(done)]
        if on_frame is not None and not on_frame(frame.image, hand, letter, taking.kept, taking.taking(now)):
            break
        if not taking.offer(now, hand is not None):
            continue
        path = out_dir / letter / f"{taking.kept}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), frame.image):
            raise OutputError(f"cannot write {path}")
        if taking.done:
            done[letter] = taking.kept
            if len(done) == len(letters):
                return done
            taking = LetterTaking(cfg)
            if on_prompt:
                on_prompt(letters[len(done)], len(done))
    raise SourceError(f"stopped after {len(done)} of {len(letters)} letters: no {cfg.per_letter} pictures with a hand "
                      f"of {letters[len(done)]} were taken")
