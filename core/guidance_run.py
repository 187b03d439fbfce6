"""One guided text-to-image run, step by step, and the CFG sweep grid (the guidance tab's compute).

Classifier-free guidance (Ho and Salimans 2022, https://arxiv.org/abs/2207.12598): at every step
the UNet predicts the noise twice, without the prompt (the negative prompt, or the empty prompt)
and with it, and the sampler follows

    guided = uncond + s * (cond - uncond)

s = 1 is the conditional prediction alone; s > 1 pushes further along "what the prompt adds".
Guidance rescale (Lin et al. 2023, https://arxiv.org/abs/2305.08891, section 3.4) scales the guided
prediction back to the spread of the conditional one, mixed in by phi, against the washed-out,
over-saturated images large s gives.

The diffusers pipeline does the sampling. This module watches it without changing it: a forward
hook on the UNet records each call's input and its unconditional and conditional outputs (for the
calling thread only, so users sharing the model do not see each other's steps); from them it
computes the guided prediction as the pipeline does (`combine`, the same formula) and the
predicted clean image x0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), which the VAE decodes into
the per-step preview. Every sampler hands the UNet its input in this same scaled form (Euler's
`scale_model_input` divides by sqrt(sigma^2 + 1)), so one formula serves them all.
A `callback_on_step_end` turns guidance off after a share of the steps (the documented way:
set the pipeline's guidance scale to 0 and keep only the conditional text embeddings).
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from core.device import gpu_task, single_cpu_thread
from core.guidance import Loaded, Settings, check, prompt_notices


def combine(uncond: torch.Tensor, cond: torch.Tensor, scale: float, rescale: float = 0.0) -> torch.Tensor:
    """The guided noise prediction: uncond + scale * (cond - uncond), then guidance rescale by `rescale`."""
    guided = uncond + scale * (cond - uncond)
    if rescale > 0:
        dims = list(range(1, cond.ndim))
        std_cond = cond.std(dim=dims, keepdim=True)
        std_guided = guided.std(dim=dims, keepdim=True)
        rescaled = guided * (std_cond / std_guided)
        guided = rescale * rescaled + (1 - rescale) * guided
    return guided


@dataclass
class Step:
    """What the UNet saw and said at one step (for the first image of the batch)."""

    index: int  # 0-based
    timestep: float
    abar: float  # alpha-bar at that timestep: the share of signal in x_t
    x_t: torch.Tensor  # (C, h, w) latent input of image 0
    uncond: torch.Tensor | None  # noise predictions of image 0 (uncond is None when not guided)
    cond: torch.Tensor
    guided: torch.Tensor
    preview: np.ndarray | None = None  # (N, H, W, 3) uint8: the decoded x0 of every image


@dataclass
class Run:
    settings: Settings
    model: str
    steps: list[Step] = field(default_factory=list)
    images: np.ndarray | None = None  # (N, H, W, 3) uint8 when done
    seconds: float = 0.0
    notices: list[str] = field(default_factory=list)
    requests_in_call: int = 1  # how many users' requests the pipeline call sampled together

    @property
    def done(self) -> bool:
        return self.images is not None


_recorder = threading.local()  # the recording of the current thread's run, if any


@gpu_task  # on a ZeroGPU Space a GPU is attached for the call (defined at import, as ZeroGPU requires)
def call_pipeline(pipe, **kwargs):
    return pipe(**kwargs)


def _unet_hook(module, args, kwargs, output):
    record = getattr(_recorder, "record", None)
    if record is not None:
        sample = args[0] if args else kwargs["sample"]
        timestep = args[1] if len(args) > 1 else kwargs["timestep"]
        record(sample, timestep, output[0] if isinstance(output, tuple) else output.sample)


def watch(loaded: Loaded) -> None:
    """Install the recording hook on a loaded pipeline's UNet once."""
    unet = loaded.pipe.unet
    if not getattr(unet, "_playground_hooked", False):
        unet.register_forward_hook(_unet_hook, with_kwargs=True)
        unet._playground_hooked = True


def _to_rgb(images: torch.Tensor) -> np.ndarray:
    """Decoded images (N, C, H, W) in [-1, 1] -> (N, H, W, 3) uint8."""
    pixels = ((images.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels


def decode(loaded: Loaded, latents: torch.Tensor) -> np.ndarray:
    vae = loaded.pipe.vae
    with torch.no_grad():
        return _to_rgb(vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample)


def small_latents(loaded: Loaded) -> bool:
    """TinySD-sized (8 x 8 latents), as opposed to real SD's 64 x 64."""
    return loaded.pipe.unet.config.sample_size <= 16


def preview_every(loaded: Loaded, steps: int) -> int:
    """Decode x0 every step for small latents; for big ones (real SD) about 10 times a run."""
    return 1 if small_latents(loaded) else max(1, steps // 10)


def _threads_for(loaded: Loaded):
    """One CPU thread for a small model on the CPU: its operations are too small to split, and in a
    server where several threads use torch, two threads per operation made TinySD's 4-image run take
    2.5 s instead of about 1 s (bench guidance). Real SD, or any GPU work, keeps torch's setting."""
    if loaded.device.type == "cpu" and small_latents(loaded):
        return single_cpu_thread()
    return contextlib.nullcontext()


def shared_by_one_call(settings: Settings) -> tuple:
    """What one pipeline call takes once for its whole batch: requests that agree on these (already
    checked) settings can be sampled together; prompts, negative prompts, seeds and image counts
    are per image."""
    return (
        settings.scale,
        settings.rescale,
        settings.steps,
        settings.scheduler,
        settings.size,
        settings.guidance_until,
    )


def start(loaded: Loaded, requests: list[Settings], previews: bool):
    """Start one pipeline call for `requests` (checked, all with the same `shared_by_one_call`) in a
    worker thread. Returns their Runs (filled step by step), the queue of updates ("step", "done"
    or the exception) and the event that stops the call at its next step.

    Request j's images sit at rows offsets[j] .. offsets[j] + batch of the call's batch, each with
    its own seeded generator, so a request gets the images it would get alone (up to float
    rounding, which depends on the batch size)."""
    first = requests[0]
    runs = [Run(s, loaded.key, notices=prompt_notices(s, loaded), requests_in_call=len(requests)) for s in requests]
    offsets = np.cumsum([0] + [s.batch for s in requests]).tolist()
    n = offsets[-1]
    pipe = loaded.pipe
    scheduler_pipe = loaded.for_request(first.scheduler)
    every = preview_every(loaded, first.steps)
    guided_steps = round(first.guidance_until * first.steps)
    guidance_on = [first.scale > 1 and guided_steps > 0]
    updates: queue.Queue = queue.Queue()
    stop = threading.Event()

    def record(sample, timestep, eps):
        index = len(runs[0].steps)
        t = float(timestep.flatten()[0]) if torch.is_tensor(timestep) else float(timestep)
        abar = float(np.interp(t, np.arange(len(pipe.scheduler.alphas_cumprod)), pipe.scheduler.alphas_cumprod.numpy()))
        guided_now = len(eps) == 2 * n
        uncond, cond = (eps[:n], eps[n:]) if guided_now else (None, eps)
        x_t = sample[n:] if guided_now else sample
        guided = combine(uncond, cond, first.scale, first.rescale) if guided_now else cond
        decoded = None
        if previews and (index % every == 0 or index == first.steps - 1):
            x0 = (x_t.float() - (1 - abar) ** 0.5 * guided.float()) / abar**0.5
            decoded = decode(loaded, x0)
        for run, row in zip(runs, offsets[:-1], strict=True):
            run.steps.append(
                Step(
                    index,
                    t,
                    abar,
                    x_t[row].float().cpu(),
                    None if uncond is None else uncond[row].float().cpu(),
                    cond[row].float().cpu(),
                    guided[row].float().cpu(),
                    None if decoded is None else decoded[row : row + run.settings.batch],
                )
            )
        updates.put("step")

    def on_step_end(the_pipe, i, t, tensors):
        if stop.is_set():
            the_pipe._interrupt = True
        if guidance_on[0] and guided_steps <= i + 1 < first.steps:  # from the next step on: no guidance
            guidance_on[0] = False
            the_pipe._guidance_scale = 0.0
            tensors["prompt_embeds"] = tensors["prompt_embeds"].chunk(2)[-1]
        return tensors

    def per_image(value_of) -> list:
        return [value for s in requests for value in [value_of(s)] * s.batch]

    negatives = per_image(lambda s: s.negative) if any(s.negative for s in requests) else None
    generators = [torch.Generator().manual_seed(s.seed + i) for s in requests for i in range(s.batch)]

    def work():
        _recorder.record = record
        try:
            started = time.perf_counter()
            with _threads_for(loaded):
                output = call_pipeline(
                    scheduler_pipe,
                    prompt=per_image(lambda s: s.prompt),
                    negative_prompt=negatives,  # "" for a request without one: what diffusers uses for None
                    guidance_scale=first.scale if guided_steps > 0 else 1.0,
                    guidance_rescale=first.rescale,
                    num_inference_steps=first.steps,
                    height=first.size,
                    width=first.size,
                    generator=generators,
                    output_type="pt",
                    callback_on_step_end=on_step_end,
                    callback_on_step_end_tensor_inputs=["prompt_embeds"],
                )
            seconds = time.perf_counter() - started
            images = _to_rgb(output.images * 2 - 1)
            for run, row in zip(runs, offsets[:-1], strict=True):
                run.seconds = seconds
                run.images = images[row : row + run.settings.batch]
            updates.put("done")
        except BaseException as err:  # handed to the consumer's thread
            updates.put(err)
        finally:
            _recorder.record = None

    threading.Thread(target=work, daemon=True).start()
    return runs, updates, stop


def run(loaded: Loaded, settings: Settings, previews: bool = True) -> Iterator[Run]:
    """Sample `settings` with `loaded`; yields the Run after each step (with its new Step) and once done.

    Raises ValueError (bad settings) before the first yield. Closing the iterator stops the
    pipeline at its next step.
    """
    watch(loaded)
    runs, updates, stop = start(loaded, [check(settings, loaded)], previews)
    try:
        while True:
            update = updates.get()
            if isinstance(update, BaseException):
                raise update
            yield runs[0]
            if update == "done":
                return
    finally:
        stop.set()


def generate(loaded: Loaded, settings: Settings, previews: bool = True) -> Run:
    """The finished run (no streaming)."""
    return collections.deque(run(loaded, settings, previews), maxlen=1)[0]


MAX_SWEEP_CELLS = 48


@dataclass
class Sweep:
    """Images for every (sampler, scale) row and seed column: cells[(sampler, scale)] is (columns, H, W, 3)."""

    settings: Settings
    scales: list[float]
    seeds: list[int]
    schedulers: list[str]
    cells: dict[tuple[str, float], np.ndarray]
    seconds: float


def sweep(
    loaded: Loaded, settings: Settings, scales: list[float], columns: int, schedulers: list[str] | None = None
) -> Sweep:
    """The CFG sweep grid: one row per (sampler, scale), one column per seed (settings.seed, +1, ...).

    A column keeps its seed in every row, so what changes along a column is the guidance alone.
    """
    schedulers = schedulers or [settings.scheduler]
    scales = sorted({float(s) for s in scales})
    if not scales:
        raise ValueError("Give at least one guidance scale.")
    if len(scales) * len(schedulers) * columns > MAX_SWEEP_CELLS:
        raise ValueError(f"A sweep makes at most {MAX_SWEEP_CELLS} images: use fewer scales, seeds or samplers.")
    started = time.perf_counter()
    cells = {}
    for scheduler in schedulers:
        for scale in scales:
            row = generate(loaded, replace(settings, scale=scale, scheduler=scheduler, batch=columns), previews=False)
            cells[(scheduler, scale)] = row.images
    seeds = [row.settings.seed + i for i in range(columns)]
    return Sweep(row.settings, scales, seeds, schedulers, cells, time.perf_counter() - started)
