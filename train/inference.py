"""Batched forward passes of a torch model over uint8 image arrays."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


@torch.no_grad()
def predict_logits(model: nn.Module, images: np.ndarray | torch.Tensor, batch_size: int = 256,
                   device: torch.device | str = "cpu") -> np.ndarray:
    """Logits (N×classes, float32) for N×S×S×3 uint8 images, in eval mode."""
    was_training = model.training
    model.eval()
    images = torch.as_tensor(images)
    out = [model(images[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(images), batch_size)]
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)
