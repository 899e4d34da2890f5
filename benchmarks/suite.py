"""`asl bench`: every backend × batch × threads timed in one run, plus accuracy parity on real images."""
from __future__ import annotations

import functools
import logging
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asl.benchmarks.backend import Backend
from asl.benchmarks.latency import summarize, time_calls
from asl.export.parity import compare
from asl.runtime.batches import in_batches
from asl.runtime.image import to_model_input
from asl.runtime.providers import ProviderError
from asl.runtime.recognizer import softmax

log = logging.getLogger("asl")


@dataclass
class BenchConfig:
    models: list[Path]                     # ONNX files of ours
    checkpoint: Path | None                # the PyTorch reference
    data: list[Path] = field(default_factory=list)   # labelled folders: parity on their validation parts
    providers: list[str] = field(default_factory=lambda: ["cpu"])
    batches: list[int] = field(default_factory=lambda: [1, 8, 32])
    threads: list[int] = field(default_factory=lambda: [1, 2])
    seed_baseline: bool = True
    min_seconds: float = 2.0
    frame_size: tuple[int, int] = (640, 480)   # a VGA camera frame for the end-to-end path
    max_parity_images: int = 1500            # as the export's gate (asl.data.arrays.PARITY_IMAGES), same images


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import onnxruntime

    info = {"cpu": cpu, "cores": os.cpu_count(), "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "onnxruntime": onnxruntime.__version__,
            "onnxruntime_providers": onnxruntime.get_available_providers()}
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda_device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return info


def _backends(cfg: BenchConfig, threads: int, unavailable: list[str]) -> list[Backend]:
    from asl.benchmarks.onnx_backend import onnx_backend
    from asl.benchmarks.torch_backend import seed_model, torch_backend

    backends = []
    torch_devices = ["cpu"] + (["cuda"] if "cuda" in cfg.providers and _torch_cuda() else [])
    reference = None
    if cfg.checkpoint:
        from asl.train.checkpoint import load_checkpoint

        reference, info = load_checkpoint(cfg.checkpoint)
        backends += [torch_backend(reference, "AslNet", info.input_size, threads, d) for d in torch_devices]
    for provider in cfg.providers:
        for model in cfg.models:
            if ".fp16." in Path(model).name and provider == "cpu":
                continue  # half precision is for GPU providers; ONNX Runtime's CPU kernels would upcast
            try:
                backends.append(onnx_backend(model, "AslNet", provider, threads))
            except ProviderError as err:
                note = f"{provider}: {err}"
                if note not in unavailable:
                    unavailable.append(note)
                    log.warning("skipping %s", note)
                break
    if cfg.seed_baseline:
        seed, size = seed_model()
        backends += [torch_backend(seed, "seed CNN", size, threads, d) for d in torch_devices]
        backends.append(onnx_backend(_seed_onnx(), "seed CNN", "cpu", threads))
    return backends


@functools.lru_cache(maxsize=1)
def _seed_onnx() -> bytes:
    """The seed CNN exported through our own export path (once per process)."""
    from asl.benchmarks.torch_backend import seed_model
    from asl.data import CLASSES
    from asl.export import graph
    from asl.runtime.metadata import ModelInfo

    seed, size = seed_model()
    proto = graph.torch_to_onnx(seed, size)
    proto, _ = graph.simplify(proto, np.zeros((1, size, size, 3), np.uint8))
    graph.set_metadata(proto, ModelInfo(classes=list(CLASSES), input_size=size, arch="seed"))
    return proto.SerializeToString()


def _torch_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def _frame_path(backend: Backend, frame: np.ndarray):
    """Camera frame → ROI + resize → inference → softmax and top-3: what a live user waits for."""
    prepare = backend.prepare or (lambda f: to_model_input(f, backend.input_size))

    def step():
        probabilities = softmax(backend.logits(prepare(frame)[None]))
        return np.argsort(-probabilities[0])[:3]

    return step


def run_bench(cfg: BenchConfig, progress=None) -> dict:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (cfg.frame_size[1], cfg.frame_size[0], 3), dtype=np.uint8)
    report = {"machine": machine_info(), "config": {"batches": cfg.batches, "threads": cfg.threads,
                                                    "providers": cfg.providers, "data": [Path(d).name for d in cfg.data]},
              "latency": [], "frame_path": [], "parity": [], "unavailable": []}
    last_backends: list[Backend] = []
    for threads in cfg.threads:
        backends = _backends(cfg, threads, report["unavailable"])
        for backend in backends:
            row = {"variant": backend.name, "model": backend.model, "runtime": backend.runtime, "precision": backend.precision,
                   "provider": backend.provider, "threads": threads, "size_mb": backend.size_bytes / 1e6}
            for batch in cfg.batches:
                x = rng.integers(0, 256, (batch, backend.input_size, backend.input_size, 3), dtype=np.uint8)
                stats = summarize(time_calls(lambda: backend.logits(x), min_seconds=cfg.min_seconds), batch)
                report["latency"].append({**row, "batch": batch, **stats})
                if progress:
                    progress(f"{backend.name:<34} threads {threads} batch {batch:>3}: p50 {stats['p50_ms']:8.2f} ms")
            stats = summarize(time_calls(_frame_path(backend, frame), min_seconds=cfg.min_seconds), 1)
            report["frame_path"].append({**row, "fps": 1000 / stats["p50_ms"], **stats})
        last_backends = backends
    if cfg.data:
        report["parity"] = _parity(cfg, [b for b in last_backends if b.model == "AslNet"])
    report["summary"] = _summary(report)
    return report


def _parity(cfg: BenchConfig, backends: list[Backend]) -> list[dict]:
    from asl.data.arrays import load_sets, parity_sample

    if not backends:
        return []
    images, labels = parity_sample(load_sets(cfg.data, backends[0].input_size), cfg.max_parity_images)
    outputs = {b.name: in_batches(b.logits, images, 64) for b in backends}
    reference = next((outputs[b.name] for b in backends if b.runtime == "PyTorch" and b.provider == "cpu"), None)
    rows = []
    for b in backends:
        row = {"variant": b.name, "precision": b.precision, "provider": b.provider, "n": int(len(labels)),
               "top1": float((outputs[b.name].argmax(1) == labels).mean())}
        if reference is not None:
            parity = compare(reference, outputs[b.name])
            row.update(agreement=parity["agreement"], max_abs_logit_diff=parity["max_abs_logit_diff"])
        rows.append(row)
    return rows


def _summary(report: dict) -> dict:
    """Our default model against the seed CNN, at batch 1 on one thread (the edge case that matters)."""
    def p50(model, runtime, precision=None, threads=1):
        for row in report["latency"]:
            if (row["model"], row["runtime"], row["batch"], row["threads"], row["provider"]) == (model, runtime, 1, threads, "cpu") \
                    and (precision is None or row["precision"] == precision):
                return row
        return None

    seed = p50("seed CNN", "ONNX Runtime") or p50("seed CNN", "PyTorch")
    summary = {}
    for precision in ("int8", "fp32"):
        ours = p50("AslNet", "ONNX Runtime", precision)
        if ours and seed:
            summary[f"speedup_{precision}_vs_seed"] = seed["p50_ms"] / ours["p50_ms"]
            summary[f"size_ratio_{precision}_vs_seed"] = seed["size_mb"] / ours["size_mb"]
            summary[f"p50_ms_{precision}"] = ours["p50_ms"]
            summary[f"size_mb_{precision}"] = ours["size_mb"]
    if seed:
        summary["p50_ms_seed"], summary["size_mb_seed"] = seed["p50_ms"], seed["size_mb"]
    accuracy = {row["precision"]: row["top1"] for row in report["parity"] if row["provider"] == "cpu" and "ONNX" in row["variant"]}
    if "int8" in accuracy and "fp32" in accuracy:
        summary["int8_top1_drop_points"] = 100 * (accuracy["fp32"] - accuracy["int8"])
    return summary
