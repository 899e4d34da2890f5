"""Checkpoints: weights plus the ModelInfo (classes, input size, pixel layout, data) they were trained with."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from asl.runtime.errors import AslError
from asl.runtime.files import atomic_path
from asl.runtime.metadata import ModelInfo
from asl.train.model import build_model

FORMAT = "asl-checkpoint/1"
# Settings that shape the weights or the data they learn from: a resumed run must keep them.
RESUME_SETTINGS = ("input_size", "width", "expand", "data", "holdout", "val_fraction", "seed")
STATE_KEYS = ("model", "ema", "optimizer", "scheduler", "generator", "history", "epoch", "config")


class CheckpointError(AslError, ValueError):
    """A checkpoint that is missing, unreadable, or not ours."""


def atomic_save(obj, path: str | os.PathLike) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves half a checkpoint."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def checkpoint_dict(model: nn.Module, arch: str, info: ModelInfo, **extra) -> dict:
    return {"format": FORMAT, "arch": arch, "arch_config": dict(model.config), "state_dict": model.state_dict(),
            "info": info.to_dict(), **extra}


def read_checkpoint(path: str | os.PathLike, fmt: str = FORMAT, kind: str = "an ASL checkpoint",
                    writer: str = "asl train") -> dict:
    """A checkpoint's dict, checked to be a torch file of plain weights in format `fmt` (written by `writer`)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many types for a foreign or damaged file
        raise CheckpointError(f"{path} is not {kind} (torch cannot read it as plain weights)") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != fmt:
        raise CheckpointError(f"{path} is not {kind} (expected one written by `{writer}`)")
    return ckpt


def _compared(key: str, value):
    """Data folders compare by name (the same set may sit elsewhere on another machine)."""
    return [Path(p).name for p in value] if key in ("data", "holdout") else value


def read_state(path: str | os.PathLike, settings: dict) -> dict:
    """The training state `last.pt` to resume, checked to be ours, whole, and from a run with the same `settings`.

    Resuming with another input size, width or data would write a checkpoint whose metadata does
    not describe its weights, so that is refused, as is a truncated or foreign file.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many types for a truncated or foreign file
        raise CheckpointError(f"cannot resume from {path}: not a training state written by `asl train` (truncated or foreign)") from None
    if not isinstance(state, dict) or any(k not in state for k in STATE_KEYS) or not isinstance(state["config"], dict):
        raise CheckpointError(f"cannot resume from {path}: not a training state written by `asl train`")
    changed = [k for k in RESUME_SETTINGS if _compared(k, state["config"].get(k)) != _compared(k, settings.get(k))]
    if changed:
        was = ", ".join(f"{k} {state['config'].get(k)!r}" for k in changed)
        raise CheckpointError(f"cannot resume {path} with other settings ({', '.join(changed)}): it was trained with {was}")
    return state


def load_state(state: dict, **targets) -> None:
    """`model=…, optimizer=…` each given `state[name]`; a state of another shape is one CheckpointError."""
    for name, target in targets.items():
        try:
            target.load_state_dict(state[name])
        except (ValueError, TypeError, RuntimeError, KeyError) as err:
            lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
            detail = next((line for line in lines if "mismatch" in line or "key" in line.lower()), lines[0] if lines else "")
            raise CheckpointError(f"cannot resume: the saved {name} does not fit this run ({detail[:160]})") from None


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
