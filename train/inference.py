"""Batched forward passes of a torch model over uint8 image arrays."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from asl.runtime.batches import in_batches
from asl.runtime.errors import AslError


class DeviceError(AslError, RuntimeError):
    """A torch device that this machine does not have."""


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` (CUDA when present, else CPU), `cpu`, `cuda`, `cuda:N` or `mps`, checked to exist here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device {name!r}: expected auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} asked for, but torch sees no CUDA device (use --device cpu or auto)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise DeviceError(f"device {name!r} asked for, but torch sees {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("device 'mps' asked for, but this machine has no Apple GPU")
    if device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unknown device {name!r}: expected auto, cpu, cuda, cuda:N or mps")
    return device


@torch.no_grad()
def predict_logits(model: nn.Module, images: np.ndarray | torch.Tensor, batch_size: int = 256,
                   device: torch.device | str = "cpu") -> np.ndarray:
    """Logits (N×classes, float32) for N×S×S×3 uint8 images, in eval mode."""
    was_training = model.training
    model.eval()
    logits = in_batches(lambda batch: model(batch.to(device)).float().cpu().numpy(), torch.as_tensor(images), batch_size)
    model.train(was_training)
    return logits
