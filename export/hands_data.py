"""Real pictures for checking converted hand models: a few, spread evenly over some folders."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from asl.runtime.image import ImageError, read_image
from asl.runtime.sources import image_files


def sample_pictures(folders: list[Path], count: int) -> list[np.ndarray]:
    """Up to `count` readable images, evenly spaced through the folders' files in frame order."""
    paths = [p for folder in folders for p in image_files(Path(folder))]
    pictures = []
    for index in np.linspace(0, len(paths) - 1, min(count, len(paths))).round().astype(int) if paths else []:
        try:
            pictures.append(read_image(paths[index]))
        except ImageError:
            continue
    return pictures
