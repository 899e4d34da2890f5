"""Timing loops: warm-up, then timed runs until both a run count and a time budget are met."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np


def time_calls(fn: Callable[[], object], warmup: int = 5, min_runs: int = 20, max_runs: int = 500,
               min_seconds: float = 2.0) -> np.ndarray:
    """Wall-clock seconds of each timed call."""
    for _ in range(warmup):
        fn()
    times = []
    started = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - started < min_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return np.array(times)


def summarize(times: np.ndarray, batch: int) -> dict:
    ms = times * 1000
    return {
        "runs": int(len(times)),
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "throughput_ips": float(batch / np.median(times)),
    }
