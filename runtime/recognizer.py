"""Recognizer: an exported ASL model in ONNX Runtime, from pixels to letters."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from asl.models import default_model_path
from asl.runtime.errors import AslError
from asl.runtime.image import Roi, read_image, to_model_input
from asl.runtime.metadata import ModelInfo
from asl.runtime.providers import ProviderError, create_session


class ModelError(AslError, RuntimeError):
    """A model file that is missing or cannot be loaded."""


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float
    top_k: list[tuple[str, float]]

    def to_dict(self) -> dict:
        return {"label": self.label, "probability": round(self.probability, 4),
                "top_k": [[name, round(p, 4)] for name, p in self.top_k]}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class Recognizer:
    """Loads an ONNX model exported by `asl export` and names the sign in images.

    Class names, input size and pixel layout come from the model's own metadata.
    """

    def __init__(self, model: str | os.PathLike | bytes | None = None, provider: str = "auto",
                 threads: int | None = None, strict: bool = False, roi: Roi | None = None, top_k: int = 3):
        if model is None:
            model = default_model_path()
        if not isinstance(model, bytes):
            model = Path(model)
            if not model.is_file():
                raise ModelError(f"model not found: {model}")
        self.source = "<in memory>" if isinstance(model, bytes) else str(model)
        try:
            self.session, self.provider = create_session(model, provider, threads, strict)
            self.info = ModelInfo.from_props(dict(self.session.get_modelmeta().custom_metadata_map))
        except ProviderError:
            raise
        except Exception as err:  # onnxruntime raises its own types for a damaged or foreign file
            raise ModelError(f"cannot load model {self.source}: {str(err).strip().splitlines()[0]}") from None
        self.classes: list[str] = list(self.info.classes)
        self.input_size: int = int(self.info.input_size)
        self.roi = roi
        self.top_k = top_k
        self._input = self.session.get_inputs()[0].name
        batch = self.session.get_inputs()[0].shape[0]
        self._static_batch = batch if isinstance(batch, int) else None  # e.g. a batch-1 export for TensorRT

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """Region of interest of a BGR frame, resized to the model's input."""
        return to_model_input(frame, self.input_size, self.roi)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw model outputs for an N×S×S×3 uint8 batch already at the input size."""
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        step = self._static_batch or len(batch)
        outputs = [self.session.run(None, {self._input: batch[i:i + step]})[0] for i in range(0, len(batch), step)]
        return np.concatenate(outputs).astype(np.float32)

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Predictions for BGR frames of any size (each is cropped to the ROI and resized)."""
        if len(images) == 0:
            return []
        probabilities = softmax(self.logits(np.stack([self.prepare(im) for im in images])))
        return [self._prediction(p) for p in probabilities]

    def predict(self, image: np.ndarray | str | os.PathLike) -> Prediction:
        """Prediction for one BGR frame or image file."""
        if not isinstance(image, np.ndarray):
            image = read_image(image)
        return self.predict_batch([image])[0]

    def _prediction(self, probabilities: np.ndarray) -> Prediction:
        order = np.argsort(-probabilities)[: self.top_k]
        top = [(self.classes[i], float(probabilities[i])) for i in order]
        return Prediction(top[0][0], top[0][1], top)

