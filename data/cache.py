"""Decode an image set once into a compact uint8 array, so training epochs never touch JPEGs.

The cache file is keyed by the file list, sizes and modification times, and the input size, so a
changed folder is decoded again and an unchanged one loads in a second.
"""
from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from asl.data.folders import ImageSet
from asl.runtime.files import OutputError, atomic_path
from asl.runtime.image import ImageError, read_image, to_model_input
from asl.runtime.progress import Progress

CACHE_VERSION = 1
log = logging.getLogger("asl")


def default_cache_dir() -> Path:
    return Path(os.environ.get("ASL_CACHE", Path.home() / ".cache" / "asl"))


def set_key(image_set: ImageSet, tag: str) -> str:
    """A short key that changes with the set's file list, sizes and modification times, and with `tag`."""
    digest = hashlib.sha1(tag.encode())
    for sample in image_set.samples:
        stat = sample.path.stat()
        digest.update(f"{sample.path}:{sample.label}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _decode_one(path: Path, size: int) -> np.ndarray | None:
    try:
        return to_model_input(read_image(path), size)
    except ImageError:
        return None


def decode_set(image_set: ImageSet, size: int, cache_dir: Path | None = None, progress: Progress | None = None,
               use_cache: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images N×size×size×3 uint8 BGR, labels N int64, kept sample indices N) for readable images.

    Unreadable files are dropped and counted in `image_set.skipped["unreadable"]`.
    """
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    key = set_key(image_set, f"v{CACHE_VERSION}:{size}")
    cache_file = cache_dir / f"{image_set.name}-{size}px-{key}.npz"
    if use_cache and cache_file.exists():
        with np.load(cache_file) as stored:
            images, kept = stored["images"], stored["kept"]
    else:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            decoded = pool.map(lambda s: _decode_one(s.path, size), image_set.samples, chunksize=64)
            results = []
            for image in decoded:
                results.append(image)
                if progress and (len(results) % 64 == 0 or len(results) == len(image_set.samples)):
                    progress(f"decoding {image_set.name}", len(results), len(image_set.samples))
        kept = np.array([i for i, image in enumerate(results) if image is not None], dtype=np.int64)
        images = np.stack([results[i] for i in kept]) if len(kept) else np.zeros((0, size, size, 3), np.uint8)
        if use_cache:
            try:
                with atomic_path(cache_file) as tmp:
                    np.savez(tmp, images=images, kept=kept)
            except OutputError as err:  # a read-only cache costs time next run, not this run
                log.warning("images not cached: %s", err)
    unreadable = len(image_set.samples) - len(kept)
    if unreadable:
        image_set.skipped["unreadable"] = unreadable
    labels = np.array([image_set.samples[i].label for i in kept], dtype=np.int64)
    return images, labels, kept
