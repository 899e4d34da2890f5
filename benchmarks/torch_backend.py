"""PyTorch backends: our checkpoint, and the seed CNN with random weights (its speed and size do not depend on them)."""
from __future__ import annotations

import copy
import io

import numpy as np
import torch

from asl.benchmarks.backend import Backend
from asl.train.inference import predict_logits
from asl.train.model import FIXED_INPUT_SIZE, SeedCNN


def _state_bytes(model: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def torch_backend(model: torch.nn.Module, label: str, input_size: int, threads: int, device: str = "cpu") -> Backend:
    model = copy.deepcopy(model).eval().to(device)  # one copy per device: .to() moves a module in place
    torch.set_num_threads(threads)

    def logits(batch: np.ndarray) -> np.ndarray:
        torch.set_num_threads(threads)
        out = predict_logits(model, batch, batch_size=len(batch), device=device)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return out

    provider = "cuda" if device.startswith("cuda") else "cpu"
    return Backend(f"{label} PyTorch fp32 {provider}", label, "PyTorch", "fp32", provider, threads, input_size,
                   _state_bytes(model), logits)


def seed_model() -> tuple[torch.nn.Module, int]:
    torch.manual_seed(0)
    return SeedCNN().eval(), FIXED_INPUT_SIZE["seed"]
