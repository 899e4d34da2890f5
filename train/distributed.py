"""Several training processes under `torchrun`: DDP over NCCL (GPUs) or gloo (CPUs).

torchrun starts one process per GPU (or per CPU slot) and tells each its place through the
environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT). Without those variables there is
one process and every helper here is a no-op, so `asl train` behaves exactly as before.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from asl.train.inference import resolve_device

# Rank 0 evaluates and writes between epochs while the others wait: allow for a long evaluation.
TIMEOUT = timedelta(hours=1)


@dataclass(frozen=True)
class Processes:
    """This process's place among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that logs and writes files."""
        return self.rank == 0

    def describe(self, batch_size: int) -> str:
        """The batch layout for the log: per process, and the effective batch over all processes."""
        if not self.enabled:
            return ""
        return (f"; {self.world_size} processes ({self.backend}), batch {batch_size} per process, "
                f"{batch_size * self.world_size} in all")

    def share(self, order: torch.Tensor, batch_size: int) -> torch.Tensor:
        """This rank's part of an epoch's sampling order, DistributedSampler-style.

        Every rank draws the same order (the sampling generator is seeded alike everywhere);
        global step s holds order[s·B·W:(s+1)·B·W] and rank r trains on its r-th block of B.
        """
        if not self.enabled:
            return order
        return order.view(-1, self.world_size, batch_size)[:, self.rank].reshape(-1)

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """DistributedDataParallel around `model` (gradients averaged over ranks); the model itself with one process."""
        if not self.enabled:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def mean(self, value: float) -> float:
        """The mean of `value` over all ranks (for the logged loss)."""
        if not self.enabled:
            return value
        device = torch.device("cuda", torch.cuda.current_device()) if self.backend == "nccl" else torch.device("cpu")
        tensor = torch.tensor([value], dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return float(tensor.item()) / self.world_size

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    @contextlib.contextmanager
    def main_first(self):
        """Local rank 0 of each machine runs the block first (decodes and caches the images), then the others,
        who find the cache: no two processes of one machine write the same cache file."""
        if self.local_rank != 0:
            self.barrier()
        yield
        if self.local_rank == 0:
            self.barrier()

    def augmentation_generator(self, current: torch.Generator | None, seed: int, epoch: int) -> torch.Generator | None:
        """The generator that drives this rank's augmentation in `epoch` (None: the global RNG, as on CUDA).

        One process: `current` (the sampling generator on CPU), as before. Several: a stream of its own
        per rank and epoch, since the sampling generator must stay in step across ranks; seeded from
        (seed, epoch, rank), so a resumed run repeats it. The global RNG is reseeded alike.
        """
        if not self.enabled:
            return current
        seed = (seed * 1_000_003 + epoch) * 1009 + self.rank
        torch.manual_seed(seed)
        return None if current is None else torch.Generator().manual_seed(seed)


def from_env() -> Processes:
    """This process's rank and world size as torchrun sets them (one process when not under torchrun)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    return Processes(rank=int(os.environ.get("RANK", "0")), world_size=world_size,
                     local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def is_main() -> bool:
    return from_env().is_main


@contextlib.contextmanager
def session(device_name: str):
    """(Processes, torch.device) for a training run; joins torchrun's process group and leaves it at the end.

    Under torchrun each process takes the GPU of its local rank (NCCL), or the CPU (gloo).
    """
    procs = from_env()
    device = resolve_device(device_name)
    if not procs.enabled:
        yield procs, device
        return
    if device.type == "cuda":
        device = torch.device("cuda", procs.local_rank)
        torch.cuda.set_device(device)
    procs = Processes(procs.rank, procs.world_size, procs.local_rank, "nccl" if device.type == "cuda" else "gloo")
    joined = not dist.is_initialized()
    if joined:
        dist.init_process_group(procs.backend, timeout=TIMEOUT)
    try:
        yield procs, device
        if joined:  # leave together: a rank that tears down while rank 0 still writes can abort (gloo, SIGABRT)
            dist.barrier()
    finally:
        if joined:
            dist.destroy_process_group()
