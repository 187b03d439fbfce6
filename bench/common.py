"""Timing helpers, a local app server for the server-wide sections, and the environment block every
benchmark report starts with."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from core.device import describe

REPO_ROOT = Path(__file__).resolve().parent.parent


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(**env_overrides: str) -> tuple[subprocess.Popen, str]:
    """Start `python app.py` on a free local port (offline, with these extra environment variables);
    returns the process (terminate it when done) and its URL once it answers."""
    port = _free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "HF_HUB_OFFLINE": "1", **env_overrides}
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("app.py did not start within 180 s")


def client_options(url: str, timeout: float) -> dict:
    """gradio_client.Client options for a load generator that shares the machine with the server.

    gradio_client opens a new HTTP client for every file it downloads, and with certificate checks
    on, each one loads the system's whole CA bundle: in a profile of 50 simulated students that was
    70% of the load generator's CPU, taken from the server's 2 cores. A plain-http local server has
    no certificates to check, so they are off there (a browser does no such thing per image)."""
    return {"verbose": False, "httpx_kwargs": {"timeout": timeout}, "ssl_verify": not url.startswith("http://")}
