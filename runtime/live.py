"""The live loop: frames → recognizer → speller → annotated window or video file."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable

import cv2

from asl.runtime.errors import AslError
from asl.runtime.files import AtomicFile
from asl.runtime.overlay import annotate
from asl.runtime.signer_profile import SignerProfile
from asl.runtime.sources import Source, SourceError
from asl.runtime.spelling import Speller
from asl.runtime.teaching import SignTeaching, spell_frame

WINDOW = "asl live (q: quit, c: clear, Tab then a letter: teach it your sign)"


class DisplayError(AslError, RuntimeError):
    pass


class _VideoFile:
    """cv2.VideoWriter into a temporary name, renamed into place only when the run ends well."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        self.file = AtomicFile(path)
        fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix.lower() in (".mp4", ".m4v", ".mov") else "MJPG"))
        self.writer = cv2.VideoWriter(str(self.file.tmp), fourcc, fps, size)
        if not self.writer.isOpened():
            self.file.discard()
            raise DisplayError(f"cannot write video {path}")

    def write(self, image):
        self.writer.write(image)

    def close(self, keep: bool):
        self.writer.release()
        if keep:
            self.file.commit()
        else:
            self.file.discard()


def window_shows(image, title: str = WINDOW) -> bool:
    """Shows `image` in the window; False once q or Esc is pressed."""
    cv2.imshow(title, image)
    return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)


def check_display() -> None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayError("no display to open a window on: use --headless (with --save out.mp4 to keep the video)")


def run_live(source: Source, recognizer, speller: Speller, show: bool = True, save: Path | None = None,
             on_commit=None, adapt: bool = False, keys: Callable[[], int] | None = None,
             on_taught: Callable[[SignerProfile], None] | None = None) -> str:
    """Run until the source ends (or q/Esc in the window); returns the typed text. `adapt`: `Recognizer.stream`'s.

    Keys (the window's, or `keys()` once a frame: -1 for none): q or Esc quits, c clears the text, Tab then a
    letter teaches the window that sign as the signer makes it (`SignTeaching`; `on_taught` gets the profile)."""
    if show:
        check_display()
        keys = keys or (lambda: cv2.waitKey(1) & 0xFF)
    video: _VideoFile | None = None
    fps, last = 0.0, time.perf_counter()
    finished = False
    try:
        stream = recognizer.stream(adapt)
        teaching = SignTeaching(stream) if keys is not None and SignTeaching.possible(recognizer) else None
        choosing = False   # Tab was pressed: the next letter names the sign to teach
        for index, frame in enumerate(source):
            if frame.image is None:
                continue
            prediction = stream.predict(frame.image)
            # A camera's frames are timed by the clock, a file's by their place in it (the speller counts seconds).
            clock = time.monotonic() if source.realtime else index / source.fps
            committed, taught = spell_frame(speller, teaching, prediction, clock)
            if taught and "taught" in taught and on_taught:
                on_taught(stream.profile)
            if committed and on_commit:
                on_commit(committed, speller.text)
            now = time.perf_counter()
            fps = 0.9 * fps + 0.1 / max(now - last, 1e-6) if fps else 1 / max(now - last, 1e-6)
            last = now
            if show or save:
                image = annotate(frame.image, prediction, fps, speller.text, speller.progress, speller.candidate,
                                 _status(stream, teaching, choosing, clock))
                if save:
                    if video is None:
                        video = _VideoFile(Path(save), source.fps, (image.shape[1], image.shape[0]))
                    video.write(image)
                if show:
                    cv2.imshow(WINDOW, image)
            key = keys() if keys is not None else -1
            if choosing and key not in (-1, 255):
                choosing = False
                if teaching is not None and chr(key).isalpha():
                    teaching.start(chr(key).upper())
            elif key == 9:   # Tab
                choosing = teaching is not None
            elif key in (ord("q"), 27):
                break
            elif key == ord("c"):
                speller.reset()
        finished = True
    finally:
        if video is not None:
            video.close(keep=finished)
        if show:
            cv2.destroyAllWindows()
    if save and video is None:
        raise SourceError(f"no frame could be read from the source: {save} was not written")
    return speller.text


def _status(stream, teaching: SignTeaching | None, choosing: bool, clock: float) -> str:
    """The line beside FPS: teaching a sign, or how many signs the session has adapted to."""
    if choosing:
        return "teach: press the letter"
    if teaching is not None and teaching.active:
        shown = teaching.status(clock)["teaching"]
        return (f"teach {shown['letter']}: {shown['kept']} of {shown['of']}" if shown["taking"]
                else f"teach {shown['letter']}: form it")
    if stream.adaptive is not None:
        adapted = len(stream.adaptive.letters)
        return f"adapted to {adapted} sign{'' if adapted == 1 else 's'}"
    return ""
