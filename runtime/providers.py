"""Choosing an ONNX Runtime execution provider explicitly, and saying what actually runs.

ONNX Runtime silently falls back to the CPU when a GPU provider cannot start; an edge user must
know. We build the provider list with options, create the session, then compare what was asked
for with `session.get_providers()`: a loud warning on fallback, an error with `strict`.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from asl.runtime.errors import AslError

log = logging.getLogger("asl")

CHOICES = ("auto", "tensorrt", "cuda", "cpu")
ORT_NAMES = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
SHORT_NAMES = {v: k for k, v in ORT_NAMES.items()}
# More threads than this only costs memory (each holds a stack and scratch buffers).
MAX_THREADS = 4 * (os.cpu_count() or 1)


class ProviderError(AslError, RuntimeError):
    """An unknown provider, or (with strict) a requested provider that is not the one running."""


def import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ProviderError("onnxruntime is not installed: pip install 'asl-edge[cpu]' (or [gpu] for CUDA/TensorRT)") from None
    return onnxruntime


def default_engine_cache() -> Path:
    return Path(os.environ.get("ASL_TRT_CACHE", Path.home() / ".cache" / "asl" / "trt"))


def provider_chain(choice: str, precision: str = "fp32", engine_cache: Path | None = None) -> list[tuple[str, dict]]:
    """The (ONNX Runtime provider name, options) list for a choice, most wanted first, CPU always last."""
    choice = choice.lower()
    if choice not in CHOICES:
        raise ProviderError(f"unknown provider {choice!r}: choose one of {', '.join(CHOICES)}")
    cache = str(engine_cache or default_engine_cache())
    tensorrt = (ORT_NAMES["tensorrt"], {
        "trt_fp16_enable": precision in ("fp32", "fp16"),
        "trt_int8_enable": precision == "int8",          # QDQ models: TensorRT reads the scales from the graph
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": cache,
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": cache,
    })
    cuda = (ORT_NAMES["cuda"], {"device_id": 0, "cudnn_conv_algo_search": "HEURISTIC"})
    cpu = (ORT_NAMES["cpu"], {})
    return {"auto": [tensorrt, cuda, cpu], "tensorrt": [tensorrt, cuda, cpu], "cuda": [cuda, cpu], "cpu": [cpu]}[choice]


def _model_precision(ort, source) -> str:
    """The `asl.precision` metadata of a model (TensorRT needs to know int8 before it builds)."""
    meta = ort.InferenceSession(source, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    return json.loads(meta.get("asl.precision", '"fp32"'))


def create_session(model: str | os.PathLike | bytes, provider: str = "auto", threads: int | None = None,
                   strict: bool = False, engine_cache: Path | None = None):
    """An InferenceSession on the best available provider of `provider`'s chain.

    Returns (session, active short name). Warns when the first choice is not what runs; with
    `strict`, raises ProviderError instead. `auto` never warns about a GPU the machine lacks.
    """
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise ProviderError(f"threads must be between 1 and {MAX_THREADS} (4 per core), not {threads}")
    ort = import_onnxruntime()
    source = model if isinstance(model, bytes) else os.fspath(model)
    available = set(ort.get_available_providers())
    precision = "fp32"
    if ORT_NAMES["tensorrt"] in available and provider in ("auto", "tensorrt"):
        precision = _model_precision(ort, source)
    chain = provider_chain(provider, precision, engine_cache)
    wanted = SHORT_NAMES[chain[0][0]]
    usable = [(name, opts) for name, opts in chain if name in available]
    if provider != "auto" and chain[0][0] not in available:
        message = (f"provider {wanted!r} is not available in this onnxruntime build "
                   f"(available: {', '.join(sorted(SHORT_NAMES.get(p, p) for p in available))})")
        if strict:
            raise ProviderError(message)
        log.warning("%s; falling back to %s", message, SHORT_NAMES[usable[0][0]])
    if chain[0][0] == ORT_NAMES["tensorrt"] and chain[0][0] in available:
        Path(chain[0][1]["trt_engine_cache_path"]).mkdir(parents=True, exist_ok=True)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    session = ort.InferenceSession(source, sess_options=options, providers=[n for n, _ in usable],
                                   provider_options=[o for _, o in usable])
    active = SHORT_NAMES.get(session.get_providers()[0], session.get_providers()[0])
    first_usable = SHORT_NAMES[usable[0][0]]
    if active != first_usable:
        message = f"provider {first_usable!r} failed to start; running on {active!r} instead"
        if strict:
            raise ProviderError(message)
        log.warning(message)
    return session, active
