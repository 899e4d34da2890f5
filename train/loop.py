"""The training loop: set-balanced sampling, batch augmentation, AdamW with warm-up and cosine decay, EMA weights.

Everything the run needs is checked before `--out` is created; every file in it is written
atomically, and `last.pt` lets an interrupted run continue with `--resume`.
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel

from asl.data import CLASSES
from asl.data.arrays import load_sets
from asl.runtime.errors import AslError
from asl.runtime.files import check_output_dir, write_atomic
from asl.runtime.metadata import ModelInfo
from asl.runtime.progress import Progress
from asl.runtime.scoring import score
from asl.train import distributed
from asl.train.augment import AugmentConfig, BatchAugment
from asl.train.checkpoint import CheckpointError, atomic_save, checkpoint_dict, load_state, read_state
from asl.train.inference import predict_logits
from asl.train.model import PIXEL_MEAN_BGR, PIXEL_STD_BGR, build_model, count_flops, count_params

log = logging.getLogger("asl")

CHECKPOINT_NAME = "asl.pt"
STATE_NAME = "last.pt"


class TrainError(AslError, ValueError):
    """Settings that cannot train on this machine."""


@dataclass
class TrainConfig:
    data: list[str]
    out: str
    holdout: list[str] = field(default_factory=list)   # scored every epoch, never trained on
    epochs: int = 16
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.02
    label_smoothing: float = 0.1
    warmup_epochs: float = 1.0
    input_size: int = 96
    width: float = 1.0
    expand: int = 2
    val_fraction: float = 0.2
    set_balance: float = 0.5   # sampling weight of a set ∝ (its size)^set_balance: 1 = as is, 0 = equal
    ema_decay: float = 0.998
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    bf16: bool = False   # bfloat16 autocast of the training forward pass (CUDA only)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


def _soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, smoothing: float) -> torch.Tensor:
    targets = targets * (1 - smoothing) + smoothing / targets.shape[1]
    return -(targets * F.log_softmax(logits.float(), 1)).sum(1).mean()


def _ema_with_warmup(decay: float):
    """EMA whose decay ramps up from 0.1, so early averages are not dominated by the random init."""

    def average(averaged: torch.Tensor, current: torch.Tensor, num_averaged) -> torch.Tensor:
        d = min(decay, (1 + float(num_averaged)) / (10 + float(num_averaged)))
        return averaged * d + current * (1 - d)

    return average


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _evaluate(model: torch.nn.Module, parts: dict[str, tuple[np.ndarray, np.ndarray]], device) -> dict[str, dict]:
    results = {}
    for name, (images, labels) in parts.items():
        preds = predict_logits(model, images, device=device).argmax(1)
        results[name] = score(labels, preds, CLASSES)
    return results


def _echo(msg: str) -> None:
    if distributed.is_main():
        log.info(msg)


def train(cfg: TrainConfig, resume: bool = False, progress: Progress | None = None) -> Path:
    """Train and write `asl.pt`, `metrics.json`, `history.json` and plots into `cfg.out`; returns the checkpoint path.

    Under torchrun, every process trains its share of each batch (DDP) and rank 0 alone writes.
    """
    with distributed.session(cfg.device) as (procs, device):
        return _train(cfg, resume, progress if procs.is_main else None, procs, device)


def _train(cfg: TrainConfig, resume: bool, progress: Progress | None, procs: distributed.Processes, device: torch.device) -> Path:
    out = Path(cfg.out)
    state_path = out / STATE_NAME
    if state_path.exists() and not resume:
        raise CheckpointError(f"{out} already holds a training run: pass --resume to continue it, or choose another --out")
    if resume and not state_path.exists():
        raise CheckpointError(f"nothing to resume: {state_path} not found")
    state = read_state(state_path, asdict(cfg)) if resume else None
    if cfg.bf16 and device.type != "cuda":
        raise TrainError(f"--bf16 needs a CUDA device; this run trains on {device.type}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.epochs < 1:
        raise TrainError("epochs must be at least 1")

    with procs.main_first():  # [distributed] one process fills the image cache
        sets = load_sets(cfg.data, cfg.input_size, cfg.val_fraction, progress=progress)
        holdouts = load_sets(cfg.holdout, cfg.input_size, progress=progress, held_out=True)
    for s in sets:
        _echo(s.summary())
    for s in holdouts:
        _echo(s.summary(held_out=True))
    eval_parts = {f"val:{s.name}": (s.images[s.val], s.labels[s.val]) for s in sets if len(s.val)}
    eval_parts.update({f"holdout:{s.name}": (s.images, s.labels) for s in holdouts})

    generator = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    train_images = torch.from_numpy(np.concatenate([s.images[s.train] for s in sets])).to(device)
    train_labels = torch.from_numpy(np.concatenate([s.labels[s.train] for s in sets])).to(device)
    weights = torch.cat([torch.full((len(s.train),), len(s.train) ** (cfg.set_balance - 1.0)) for s in sets])
    nothing = train_labels == CLASSES.index("nothing")
    augment = BatchAugment(cfg.augment, len(CLASSES), train_images[nothing], generator if device.type == "cpu" else None)

    model = build_model("aslnet", num_classes=len(CLASSES), width=cfg.width, expand=cfg.expand)
    model = model.to(device, memory_format=torch.channels_last)
    ema = AveragedModel(model, avg_fn=_ema_with_warmup(cfg.ema_decay), use_buffers=True)
    net = procs.wrap(model, device)  # [distributed] DDP: the forward pass that syncs gradients
    optimizer = torch.optim.AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.lr)
    steps_per_epoch = max(1, len(train_labels) // (cfg.batch_size * procs.world_size))
    total, warmup = cfg.epochs * steps_per_epoch, max(1, int(cfg.warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    _echo(f"model: aslnet width {cfg.width} expand {cfg.expand}, {count_params(model) / 1e6:.3f} M parameters, "
          f"{count_flops(model, cfg.input_size) / 1e6:.1f} MFLOPs at {cfg.input_size} px; training on {device} "
          f"with {len(train_labels)} images, {steps_per_epoch} steps/epoch" + procs.describe(cfg.batch_size)
          + (", bf16 autocast" if cfg.bf16 else ""))

    history: list[dict] = []
    start_epoch = 0
    if procs.is_main:
        check_output_dir(out)
    if resume:
        if state.get("world_size", 1) != procs.world_size:  # [distributed] steps per epoch depend on it
            raise CheckpointError(f"{state_path} was trained by {state.get('world_size', 1)} process(es), not "
                                  f"{procs.world_size}: resume with the same number of processes")
        load_state(state, model=model, ema=ema, optimizer=optimizer, scheduler=scheduler)
        generator.set_state(state["generator"])
        history, start_epoch = state["history"], state["epoch"]
        _echo(f"resuming after epoch {start_epoch}")

    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        started = time.perf_counter()
        order = torch.multinomial(weights, steps_per_epoch * cfg.batch_size * procs.world_size, replacement=True,
                                  generator=generator)
        order = procs.share(order, cfg.batch_size).to(device)  # [distributed] this rank's part of every step
        augment.gen = procs.augmentation_generator(augment.gen, cfg.seed, epoch)
        losses = []
        for step in range(steps_per_epoch):
            batch = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            images, targets = augment(train_images[batch], train_labels[batch])
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                loss = _soft_cross_entropy(net(images), targets, cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            ema.update_parameters(model)
            losses.append(loss.item())
            if progress:
                progress(f"epoch {epoch + 1}/{cfg.epochs}", step + 1, steps_per_epoch)
        mean_loss = procs.mean(float(np.mean(losses)))
        results = _evaluate(ema.module, eval_parts, device) if procs.is_main else {}
        record = {"epoch": epoch + 1, "loss": mean_loss, "lr": scheduler.get_last_lr()[0],
                  "seconds": time.perf_counter() - started, **{k: r["top1"] for k, r in results.items()}}
        history.append(record)
        _echo(f"epoch {epoch + 1}: loss {record['loss']:.3f}  " + "  ".join(f"{k} {r['top1']:.2%}" for k, r in results.items())
              + f"  ({record['seconds']:.0f} s)")
        if procs.is_main:
            atomic_save({"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                         "scheduler": scheduler.state_dict(), "generator": generator.get_state(), "history": history,
                         "epoch": epoch + 1, "config": asdict(cfg), "world_size": procs.world_size}, state_path)
        procs.barrier()  # [distributed] the others wait while rank 0 evaluates and writes

    checkpoint_path = out / CHECKPOINT_NAME
    if not procs.is_main:  # [distributed] rank 0 alone scores the final weights and writes the results
        return checkpoint_path
    final = ema.module.eval()
    results = _evaluate(final, eval_parts, device)
    info = ModelInfo(
        classes=list(CLASSES), input_size=cfg.input_size, arch="aslnet",
        pixel_mean=list(PIXEL_MEAN_BGR), pixel_std=list(PIXEL_STD_BGR),
        train_data=[{"name": s.name, "images": len(s.labels), "train": len(s.train), "val": len(s.val)} for s in sets]
        + [{"name": s.name, "images": len(s.labels), "held_out": True} for s in holdouts],
        val_accuracy={k: round(r["top1"], 6) for k, r in results.items()},
    )
    final_cpu = final.to("cpu")
    atomic_save(checkpoint_dict(final_cpu, "aslnet", info, train_config=_portable(cfg)), checkpoint_path)
    write_reports(out, history, results, info)
    return checkpoint_path


def _portable(cfg: TrainConfig) -> dict:
    """The run's settings with data folders reduced to their names: a shipped file names no local path."""
    settings = asdict(cfg)
    for key in ("data", "holdout"):
        settings[key] = [Path(p).name for p in settings[key]]
    settings["out"] = Path(cfg.out).name
    return settings


def write_reports(out: Path, history: list[dict], results: dict[str, dict], info: ModelInfo) -> None:
    """metrics.json, history.json, curves.png and one confusion PNG per evaluated set."""
    from asl.train.plots import plot_confusion, plot_curves

    _write_json(out / "history.json", history)
    _write_json(out / "metrics.json", {"model": info.to_dict(), "results": results})
    plot_curves(history, out / "curves.png")
    for name, result in results.items():
        plot_confusion(result, out / f"confusion-{name.replace(':', '-')}.png", title=f"{name}: top-1 {result['top1']:.2%}")


def _write_json(path: Path, data) -> None:
    write_atomic(path, json.dumps(data, indent=2))
