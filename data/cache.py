"""Decode an image set once into a compact uint8 array, so training epochs never touch JPEGs.

The cache file is keyed by the file list, sizes and modification times, and the input size, so a
changed folder is decoded again and an unchanged one loads in a second.
"""
from __future__ import annotations

import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import numpy as np

from asl.data.folders import ImageSet
from asl.runtime.image import ImageError, read_image, to_model_input

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    return Path(os.environ.get("ASL_CACHE", Path.home() / ".cache" / "asl"))


def _cache_key(image_set: ImageSet, size: int) -> str:
    digest = hashlib.sha1(f"v{CACHE_VERSION}:{size}".encode())
    for sample in image_set.samples:
        stat = sample.path.stat()
        digest.update(f"{sample.path}:{sample.label}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _decode_one(path: Path, size: int) -> np.ndarray | None:
    try:
        return to_model_input(read_image(path), size)
    except ImageError:
        return None


def decode_set(image_set: ImageSet, size: int, cache_dir: Path | None = None, progress: bool = True,
               use_cache: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images N×size×size×3 uint8 BGR, labels N int64, kept sample indices N) for readable images.

    Unreadable files are dropped and counted in `image_set.skipped["unreadable"]`.
    """
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    cache_file = cache_dir / f"{image_set.name}-{size}px-{_cache_key(image_set, size)}.npz"
    if use_cache and cache_file.exists():
        with np.load(cache_file) as stored:
            images, kept = stored["images"], stored["kept"]
    else:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            decoded = pool.map(lambda s: _decode_one(s.path, size), image_set.samples, chunksize=64)
            with click.progressbar(decoded, length=len(image_set.samples), label=f"decoding {image_set.name}",
                                   hidden=not progress, file=sys.stderr) as bar:
                results = list(bar)
        kept = np.array([i for i, image in enumerate(results) if image is not None], dtype=np.int64)
        images = np.stack([results[i] for i in kept]) if len(kept) else np.zeros((0, size, size, 3), np.uint8)
        if use_cache:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp.npz")
            np.savez(tmp, images=images, kept=kept)
            os.replace(tmp, cache_file)
    unreadable = len(image_set.samples) - len(kept)
    if unreadable:
        image_set.skipped["unreadable"] = unreadable
    labels = np.array([image_set.samples[i].label for i in kept], dtype=np.int64)
    return images, labels, kept
