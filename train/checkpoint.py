"""Checkpoints: weights plus the ModelInfo (classes, input size, pixel layout, data) they were trained with."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from asl.runtime.errors import AslError
from asl.runtime.metadata import ModelInfo
from asl.train.model import build_model

FORMAT = "asl-checkpoint/1"


class CheckpointError(AslError, ValueError):
    """A checkpoint that is missing, unreadable, or not ours."""


def atomic_save(obj, path: str | os.PathLike) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves half a checkpoint."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def checkpoint_dict(model: nn.Module, arch: str, info: ModelInfo, **extra) -> dict:
    return {"format": FORMAT, "arch": arch, "arch_config": dict(model.config), "state_dict": model.state_dict(),
            "info": info.to_dict(), **extra}


def read_checkpoint(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many types for a foreign or damaged file
        raise CheckpointError(f"{path} is not an ASL checkpoint (torch cannot read it as plain weights)") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an ASL checkpoint (expected one written by `asl train`)")
    return ckpt


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, ModelInfo]:
    """(model in eval mode, its ModelInfo); CheckpointError on anything we cannot use."""
    ckpt = read_checkpoint(path)
    try:
        model = build_model(ckpt["arch"], **ckpt["arch_config"])
        model.load_state_dict(ckpt["state_dict"])
    except (ValueError, TypeError, RuntimeError, KeyError) as err:
        first = str(err).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint {path} does not match architecture {ckpt.get('arch')!r}: {first}") from None
    return model.eval(), ModelInfo.from_dict(ckpt["info"])
