"""Datasets of ASL alphabet images: the class list, folder discovery, leak-free splits, decode cache.

Imports numpy and OpenCV only, so the runtime's `asl eval` can score ONNX models without torch.
"""
from asl.data.classes import CLASSES, NUM_CLASSES, class_index
from asl.data.folders import DataError, ImageSet, Sample, find_images
from asl.data.split import frame_block_split

__all__ = [
    "CLASSES", "NUM_CLASSES", "class_index",
    "DataError", "ImageSet", "Sample", "find_images",
    "frame_block_split",
]
