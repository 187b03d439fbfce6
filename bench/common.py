"""Timing helpers and the environment block every benchmark report starts with."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import statistics
import time
from collections.abc import Callable

from core.device import describe


def time_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median / p90 / min wall time of `fn` in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - started))
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p90_ms": round(samples[min(len(samples) - 1, int(0.9 * len(samples)))], 3),
        "min_ms": round(samples[0], 3),
        "repeats": repeats,
    }


def environment() -> dict:
    packages = ["torch", "gradio", "transformers", "tokenizers", "tiktoken", "sentencepiece", "numpy"]
    report = describe()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "device": report.summary,
        "device_name": report.name,
        "cpu_count": os.cpu_count(),
        "torch_threads": report.threads,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: importlib.metadata.version(name) for name in packages},
    }
