"""How the server shares its cores between heavy and light requests (Gradio queue settings).

Sampling a batch of images (the diffusion, flow and guidance tabs' run buttons, a branch, a race,
a CFG sweep) keeps both cores of a small machine busy for seconds. Each such event would otherwise
get its own two slots (app.py's default), so a lecture hall could run six at once while a slider
waited behind them. They share one slot instead: the rest wait in Gradio's queue, which shows each
user their place, and light actions (a decode, a slider, a tokenization) keep their own slots.
Live training has its own line (core.live_slots).

Request batching: on a GPU the guidance tab's Generate requests that wait at the same time share
pipeline calls (core.guidance_batching), which multiplies images per second when many users click
at once (bench guidance). They then wait in a line of their own that lets MAX_BATCH_REQUESTS of
them in at once, so that they can meet in the batcher, which makes one call at a time. On a CPU,
where a real SD run takes minutes and the cores are what is short, Generate stays in the
sampling line instead. PLAYGROUND_BATCH_REQUESTS=1 or 0 forces batching on or off (e.g. a CPU
server for a lecture hall that uses only TinySD).
"""

from __future__ import annotations

import os

SAMPLING = {"concurrency_id": "image-sampling", "concurrency_limit": 1}

BATCH_ENV = "PLAYGROUND_BATCH_REQUESTS"
MAX_BATCH_REQUESTS = 8  # Generate requests let into the batcher at once (it caps the images per call)


def batch_requests() -> bool:
    """Whether the guidance tab batches concurrent Generate requests: PLAYGROUND_BATCH_REQUESTS=1/0,
    otherwise on when the app computes on a CUDA GPU."""
    setting = os.environ.get(BATCH_ENV, "").strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off"):
        return False
    from core.device import get_device

    return get_device().type == "cuda"


def generate_line() -> dict:
    """The guidance tab's Generate: its own line when requests are batched, else the sampling line."""
    if batch_requests():
        return {"concurrency_id": "guidance-batching", "concurrency_limit": MAX_BATCH_REQUESTS}
    return SAMPLING
