"""Frames from anything a user points at: an image, a folder or glob, a video, a webcam, a GStreamer
pipeline (Jetson CSI camera) or Picamera2 (Raspberry Pi), behind one iterator of Frames."""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from asl.runtime.errors import AslError
from asl.runtime.files import IMAGE_SUFFIXES, natural_key
from asl.runtime.image import ImageError, read_image

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}
PICAMERA_NAMES = {"picamera2", "picam", "picamera"}


class SourceError(AslError, RuntimeError):
    """A source that does not exist or cannot be opened."""


@dataclass
class Frame:
    name: str                    # file path, or "frame N" of a stream
    image: np.ndarray | None     # BGR, or None when it could not be read
    error: str | None = None


class Source:
    """Iterable of Frames. `is_stream` tells videos and cameras from image files; `fps` is the stream's rate;
    `realtime` tells cameras (frames come at the clock's pace) from files (frame i is at i / fps)."""

    is_stream = False
    realtime = False
    fps = 30.0

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ImageFiles(Source):
    def __init__(self, paths: list[Path]):
        self.paths = paths

    def __iter__(self):
        for path in self.paths:
            try:
                yield Frame(str(path), read_image(path))
            except ImageError as err:
                yield Frame(str(path), None, str(err))


class Capture(Source):
    """A cv2.VideoCapture: video file, webcam index or GStreamer pipeline."""

    is_stream = True

    def __init__(self, target, label: str, backend: int = cv2.CAP_ANY):
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # our one-line error replaces OpenCV's chatter
        try:
            self.capture = cv2.VideoCapture(target, backend)
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if not self.capture.isOpened():
            raise SourceError(f"cannot open {label}")
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else 30.0
        self.realtime = not isinstance(target, str) or backend == cv2.CAP_GSTREAMER  # a camera, not a video file

    def __iter__(self):
        index = 0
        while True:
            ok, image = self.capture.read()
            if not ok:
                return
            yield Frame(f"frame {index}", image)
            index += 1

    def close(self):
        self.capture.release()


class Picamera(Source):
    """Raspberry Pi camera through Picamera2 (only when that package is importable)."""

    is_stream = True
    realtime = True

    def __init__(self, size: tuple[int, int] = (640, 480)):
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise SourceError("picamera2 is not installed (Raspberry Pi OS: sudo apt install python3-picamera2)") from None
        try:
            self.camera = Picamera2()
            self.camera.configure(self.camera.create_video_configuration(main={"format": "BGR888", "size": size}))
            self.camera.start()
        except Exception as err:
            raise SourceError(f"cannot open the Raspberry Pi camera: {err}") from None

    def __iter__(self):
        index = 0
        while True:
            yield Frame(f"frame {index}", self.camera.capture_array())
            index += 1

    def close(self):
        self.camera.stop()


def image_files(folder: Path) -> list[Path]:
    """Every image under `folder`, in frame order within each subfolder."""
    paths = [Path(d) / f for d, _, files in os.walk(folder) for f in files if Path(f).suffix.lower() in IMAGE_SUFFIXES]
    return sorted(paths, key=lambda p: (natural_key(p.parent), natural_key(p)))


def open_source(spec: str) -> Source:
    """Interpret `spec`: camera index, GStreamer pipeline ('!' in it), 'picamera2', folder, glob, video or image."""
    spec = str(spec)
    if spec.isdigit():
        return Capture(int(spec), f"camera {spec}")
    if "!" in spec:
        return Capture(spec, "GStreamer pipeline (is OpenCV built with GStreamer?)", cv2.CAP_GSTREAMER)
    if spec.lower() in PICAMERA_NAMES:
        return Picamera()
    path = Path(spec)
    if path.is_dir():
        paths = image_files(path)
        if not paths:
            raise SourceError(f"no images in {path}")
        return ImageFiles(paths)
    if any(ch in spec for ch in "*?["):
        paths = sorted((Path(p) for p in glob.glob(spec, recursive=True)), key=natural_key)
        if not paths:
            raise SourceError(f"no files match {spec}")
        return ImageFiles(paths)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        if not path.is_file():
            raise SourceError(f"video not found: {path}")
        return Capture(str(path), f"video {path}")
    return ImageFiles([path])
