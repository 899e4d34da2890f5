"""Files: which ones are images, their frame order, and writing them so that no reader sees half a file.

Every stage writes its outputs through `atomic_path`: the bytes go to a temporary name beside the
target and are renamed onto it only when complete; on any failure (Ctrl+C included) the
temporary file is removed and the old target, if any, stays as it was.
"""
from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from asl.runtime.errors import AslError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class OutputError(AslError, OSError):
    """An output path that cannot be written (a folder, no permission, a full disk)."""


def natural_key(path: Path) -> tuple:
    """Sort key that orders `A5.jpg` before `A10.jpg` (frame order, not string order)."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", Path(path).stem))


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, in one line, when `path` cannot become a file: a folder, or a folder we cannot write to."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder, give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create {path.parent}: {_reason(err)}") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {path}: permission denied")
    return path


def check_output_dir(path: str | os.PathLike) -> Path:
    """A folder to write several outputs into, created if needed; one line when that is impossible."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot use {path} as the output folder: it is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create {path}: {_reason(err)}") from None
    if not os.access(path, os.W_OK):
        raise OutputError(f"cannot write into {path}: permission denied")
    return path


def temporary_name(path: Path) -> Path:
    """A unique name beside `path` with the same suffix (writers such as OpenCV and matplotlib go by it)."""
    return path.with_name(f"{path.stem}.tmp.{uuid.uuid4().hex[:8]}{path.suffix}")


class AtomicFile:
    """A temporary name `tmp` beside `path` for a writer that works in steps (a video): `commit()` renames it
    onto `path`, `discard()` removes it. `atomic_path` is the same for a writer that fits in a `with` block."""

    def __init__(self, path: str | os.PathLike):
        self.path = check_writable(path)
        self.tmp = temporary_name(self.path)

    def commit(self) -> Path:
        try:
            os.replace(self.tmp, self.path)
        except OSError as err:
            raise OutputError(f"cannot write {self.path}: {_reason(err)}") from None
        finally:
            self.discard()
        return self.path

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write to; it becomes `path` when the block ends well and is removed otherwise."""
    target = AtomicFile(path)
    try:
        yield target.tmp
        target.commit()
    except OSError as err:
        if isinstance(err, AslError):
            raise
        raise OutputError(f"cannot write {target.path}: {_reason(err)}") from None
    finally:
        target.discard()


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to `path` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)


def write_together(files: dict[Path, Callable[[Path], None]], stale: Iterable[Path] = ()) -> list[Path]:
    """Write files that belong together (a model and its variants) so that no reader sees old and new mixed.

    `files` maps each target to a function that writes it to a given path, the main file first. All
    are written to temporary names before anything is replaced (a failure or Ctrl+C changes nothing);
    then the old companions and the `stale` files are removed, the main file is renamed into place,
    then the others. A reader sees the old set, a main file alone, or the new set, never a mix.
    """
    paths = [check_writable(p) for p in files]
    temporary = {path: temporary_name(path) for path in paths}
    try:
        for path, write in zip(paths, files.values()):
            write(temporary[path])
        for path in [*paths[1:], *stale]:
            Path(path).unlink(missing_ok=True)
        for path in paths:
            os.replace(temporary[path], path)
    except OSError as err:
        if isinstance(err, AslError):
            raise
        raise OutputError(f"cannot write {err.filename or paths[0]}: {_reason(err)}") from None
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
    return paths
