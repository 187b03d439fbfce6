"""The one place that picks the compute device and the dtype.

Order of preference: CUDA, then Apple MPS, then the CPU. `PLAYGROUND_DEVICE` overrides the
choice (`cpu`, `cuda`, `cuda:1`, `mps`); an override that names a device this machine does
not have is an error, because silently running elsewhere would make every timing a lie.

Dtype policy: float32 everywhere by default. A concept may opt in to half precision
(`dtype_for(device, allow_half=True)`); it gets bf16 on CUDA GPUs that support it, fp16 on
other CUDA GPUs, and float32 on MPS and CPU. `PLAYGROUND_DTYPE=float32` turns half precision off.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import torch

T = TypeVar("T")

DEVICE_ENV = "PLAYGROUND_DEVICE"
DTYPE_ENV = "PLAYGROUND_DTYPE"

_DTYPE_NAMES = {torch.float32: "float32", torch.float16: "fp16", torch.bfloat16: "bf16"}


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def _validate(device: torch.device) -> torch.device:
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"{DEVICE_ENV}={device} but CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(f"{DEVICE_ENV}={device} but only {torch.cuda.device_count()} GPU(s) exist")
    elif device.type == "mps" and not _mps_available():
        raise RuntimeError(f"{DEVICE_ENV}={device} but MPS is not available on this machine")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise RuntimeError(f"{DEVICE_ENV}={device}: use cpu, cuda, cuda:N or mps")
    return device


@functools.cache
def get_device() -> torch.device:
    """The device every concept runs on (cached: it cannot change while the process runs)."""
    override = os.environ.get(DEVICE_ENV, "").strip()
    if override:
        try:
            device = torch.device(override)
        except RuntimeError as err:
            raise RuntimeError(f"{DEVICE_ENV}={override!r} is not a device name: {err}") from None
        return _validate(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def half_dtype(device: torch.device) -> torch.dtype | None:
    """The half-precision dtype a concept may opt in to on `device`, or None (CPU, MPS)."""
    if device.type != "cuda" or os.environ.get(DTYPE_ENV, "").strip() == "float32":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def dtype_for(device: torch.device | None = None, allow_half: bool = False) -> torch.dtype:
    """float32, unless the concept allows half precision and the device offers it."""
    device = device or get_device()
    half = half_dtype(device) if allow_half else None
    return half or torch.float32


def dtype_name(dtype: torch.dtype) -> str:
    return _DTYPE_NAMES.get(dtype, str(dtype).removeprefix("torch."))


@dataclass(frozen=True)
class DeviceReport:
    """What the header strip shows about where the work runs."""

    device: str  # "cpu", "cuda:0", "mps"
    name: str  # "CPU" or the GPU's marketing name
    threads: int  # torch intra-op threads (what CPU work really gets)
    default_dtype: str  # always float32 (the default policy)
    half_dtype: str | None  # what concepts that opt in get, if anything

    @property
    def summary(self) -> str:
        """One line, e.g. 'CPU, 2 threads, float32' or 'NVIDIA H100 80GB HBM3, bf16'."""
        if self.device == "cpu":
            return f"CPU, {self.threads} thread{'s' if self.threads != 1 else ''}, {self.default_dtype}"
        precision = self.half_dtype or self.default_dtype
        return f"{self.name}, {precision}"


def describe(device: torch.device | None = None) -> DeviceReport:
    device = device or get_device()
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        name = torch.cuda.get_device_name(index)
        label = f"cuda:{index}"
    elif device.type == "mps":
        name, label = "Apple GPU (MPS)", "mps"
    else:
        name, label = "CPU", "cpu"
    half = half_dtype(device)
    return DeviceReport(
        device=label,
        name=name,
        threads=ordinary_cpu_threads(),
        default_dtype="float32",
        half_dtype=dtype_name(half) if half else None,
    )


# --- CPU threads for tiny models ---

# torch's CPU thread count is kept per OS thread (OpenMP's setting is per thread, and a thread
# takes the value last set anywhere when it first uses torch), and Gradio runs handlers, and even
# the steps of one generator, in a pool of worker threads. So the switch to one thread is made,
# and undone, in the thread that does the work, and undone to the process's own setting rather
# than to whatever the thread had: a worker thread that happened to start during another user's
# tiny-model run would otherwise pass a setting of 1 on to every later request it serves.
# Not covered: a worker thread whose first torch operation falls inside another thread's tiny run
# copies that run's 1 (torch keeps no per-thread default to copy instead) until it runs one itself.
_ORDINARY_THREADS = torch.get_num_threads()  # OMP_NUM_THREADS, or torch's default (the cores)
_single_thread_depth = threading.local()


@contextlib.contextmanager
def single_cpu_thread():
    """Run tiny-model work (2-D MLPs, a few thousand weights) on one CPU thread.

    Splitting such small matrix products across threads costs more than it saves (measured on
    2 cores: 375 vs 253 GAN steps per second), and when another process or request holds a core,
    torch's worker threads wait on each other (78 vs 387 steps per second). Applies to the calling
    thread; do not yield inside it from a Gradio generator (the next step may run in another
    thread): wrap the iterator in `single_threaded` instead.
    """
    depth = getattr(_single_thread_depth, "value", 0)
    if depth == 0:
        # A thread's first use of torch's thread setting copies the value last set anywhere,
        # overwriting its own: make that happen now, not in the middle of this run.
        torch.get_num_threads()
        torch.set_num_threads(1)
    _single_thread_depth.value = depth + 1
    try:
        yield
    finally:
        _single_thread_depth.value -= 1
        if _single_thread_depth.value == 0:
            torch.set_num_threads(_ORDINARY_THREADS)


def single_threaded(items: Iterable[T]) -> Iterator[T]:
    """`items`, each one computed inside `single_cpu_thread()`, for a generator that yields between
    them (Gradio may run each step of a generator in a different worker thread)."""
    iterator = iter(items)
    while True:
        with single_cpu_thread():
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


def ordinary_cpu_threads() -> int:
    """torch's thread setting outside `single_cpu_thread()`: what everything else gets, and what the
    header shows whichever worker thread renders it."""
    return _ORDINARY_THREADS


def gpu_task(fn):
    """`fn` as GPU work: on a Hugging Face ZeroGPU Space (SPACES_ZERO_GPU set) the `spaces` package's
    GPU decorator, which attaches a GPU for the call; everywhere else `fn` unchanged."""
    if os.environ.get("SPACES_ZERO_GPU", "").strip().lower() in ("1", "true"):
        import spaces  # preinstalled on Spaces; not a requirement of this project

        return spaces.GPU(fn)
    return fn
