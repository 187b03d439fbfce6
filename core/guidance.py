"""Stable Diffusion pipelines for the guidance tab: which models, how they load, samplers, settings.

One code path for every model: a diffusers `StableDiffusionPipeline` loaded with
`from_pretrained`, from
- the embedded TinySD folder in assets/checkpoints/ (core.tinysd; offline, CPU-instant);
- a Hub id (SD 1.5, SD-Turbo), only when the Hub is reachable;
- a local folder in the same layout (e.g. a downloaded SD 1.5).

Loaded pipelines are cached and shared by every user. A request never changes the shared one: it
gets its own light pipeline object over the same networks with its own scheduler (`for_request`),
since a scheduler keeps per-run state (its timesteps, DPM++'s history).

On CUDA the networks run in half precision with PyTorch's scaled-dot-product attention
(diffusers' default); PLAYGROUND_COMPILE=1 also compiles the UNet with torch.compile.
GPU work goes through `core.device.gpu_task`, which is the `spaces` package's GPU decorator on a
ZeroGPU Space and nothing elsewhere.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from core.assets import ASSETS_DIR
from core.device import get_device, half_dtype
from core.hub import hub_status

TINYSD_DIR = ASSETS_DIR / "checkpoints" / "tinysd-captioned"
COMPILE_ENV = "PLAYGROUND_COMPILE"
# Loading a model from a folder on the server is for running the app on your own machine: on a
# hosted app (a Hugging Face Space sets SPACE_ID) visitors must not point it at the server's files.
LOCAL_MODELS_ENV = "PLAYGROUND_LOCAL_MODELS"
MAX_PROMPT_CHARS = 1_000  # longer prompts are refused: every model reads at most 77 tokens anyway
MAX_STEPS = 150
MAX_BATCH = 8
MAX_SCALE = 30.0


@dataclass(frozen=True)
class ModelChoice:
    title: str
    source: str  # a folder under the repository, or a Hub id
    hub: bool  # True: `source` is a Hub id
    sizes: tuple[int, ...]  # image sizes (square) the model can make; the first is its default
    steps: int  # its usual number of steps
    scale: float  # its usual guidance scale (SD-Turbo is trained for none: 0)
    few_step: bool = False  # distilled for 1 to 4 steps: LCM applies
    asset: str | None = None  # the registry entry (core.assets) whose files must match their hashes


MODELS: dict[str, ModelChoice] = {
    "tinysd": ModelChoice(
        "TinySD: captioned MNIST + Fashion-MNIST (embedded, offline)",
        str(TINYSD_DIR),
        False,
        (32,),
        20,
        5.0,
        asset="tinysd-captioned",
    ),
    "sd-turbo": ModelChoice(
        "SD-Turbo (Hub: stabilityai/sd-turbo)", "stabilityai/sd-turbo", True, (512,), 1, 0.0, few_step=True
    ),
    "sd15": ModelChoice(
        "Stable Diffusion 1.5 (Hub: stable-diffusion-v1-5)",
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        True,
        (512, 384, 448, 576, 640, 768),
        30,
        7.5,
    ),
}
LOCAL = "local"  # the model key of "a local folder"

# Sampler name -> (diffusers scheduler class, extra config). DPM++ 2M is DPMSolverMultistep with
# the "dpmsolver++" algorithm at order 2 (the "DPM++ 2M" of AUTOMATIC1111).
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "DDIM": ("DDIMScheduler", {}),
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "LCM": ("LCMScheduler", {}),
}


def schedulers_for(choice: ModelChoice) -> list[str]:
    """The samplers that make sense for a model: LCM only for few-step (distilled) models."""
    return [name for name in SCHEDULERS if name != "LCM" or choice.few_step]


def make_scheduler(name: str, base_config):
    """A fresh scheduler of kind `name` on the model's noise schedule (`base_config`: its scheduler's config)."""
    import diffusers

    if name not in SCHEDULERS:
        raise ValueError(f"Unknown sampler {name!r}: choose one of {', '.join(SCHEDULERS)}.")
    class_name, extra = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(base_config, **extra)


def scheduler_name(scheduler) -> str:
    """The sampler name of a scheduler object (the inverse of make_scheduler)."""
    for name, (class_name, extra) in SCHEDULERS.items():
        if type(scheduler).__name__ == class_name and all(scheduler.config.get(k) == v for k, v in extra.items()):
            return name
    return type(scheduler).__name__


# --- loading ---


class ModelUnavailable(RuntimeError):
    """A model that cannot be loaded here; the message says why and what to do instead."""


@dataclass
class Loaded:
    key: str
    title: str
    pipe: object  # the shared StableDiffusionPipeline: read, never changed by a request
    choice: ModelChoice
    device: torch.device
    dtype: torch.dtype

    @property
    def vae_scale(self) -> int:
        return 2 ** (len(self.pipe.vae.config.block_out_channels) - 1)

    def for_request(self, scheduler: str):
        """A pipeline over the shared networks with its own fresh scheduler."""
        from diffusers import StableDiffusionPipeline

        parts = dict(self.pipe.components)
        parts["scheduler"] = make_scheduler(scheduler, self.pipe.scheduler.config)
        parts["safety_checker"] = None
        pipe = StableDiffusionPipeline(**parts, requires_safety_checker=False)
        pipe.set_progress_bar_config(disable=True)
        return pipe


_load_lock = threading.Lock()


def local_choice(folder: str) -> ModelChoice:
    return ModelChoice(f"Local folder {Path(folder).name}", folder, False, (512, 384, 448, 576, 640, 768), 30, 7.5)


def local_models_allowed() -> bool:
    flag = os.environ.get(LOCAL_MODELS_ENV, "").strip().lower()
    if flag:
        return flag in ("1", "true", "yes", "on")
    return not os.environ.get("SPACE_ID")


def load(key: str, folder: str | None = None) -> Loaded:
    """The pipeline of model `key` (or of the local `folder` when key is LOCAL), loaded once and cached."""
    if key == LOCAL:
        if not local_models_allowed():
            raise ModelUnavailable(f"Local model folders are turned off on this server ({LOCAL_MODELS_ENV}=0).")
        path = Path(str(folder or "")).expanduser()
        if not str(folder or "").strip():
            raise ModelUnavailable("Give the path of a local Stable Diffusion folder (one holding model_index.json).")
        if not (path / "model_index.json").is_file():
            raise ModelUnavailable(f"{str(folder)[:200]!r} is not a diffusers pipeline folder (no model_index.json).")
        return _load(str(path.resolve()), local_choice(str(path)), LOCAL)
    if key not in MODELS:
        raise ModelUnavailable(f"Unknown model {str(key)[:80]!r}: choose one of {', '.join(MODELS)} or a local folder.")
    choice = MODELS[key]
    if choice.hub and not hub_status().reachable:
        raise ModelUnavailable(
            f"{choice.title} comes from the Hugging Face Hub, which this server cannot reach. TinySD works offline; "
            "a downloaded copy of the model works through 'local folder'."
        )
    if choice.asset:
        from core import assets

        return _load(str(assets.load_embedded(choice.asset)), choice, key)  # its files checked against their hashes
    return _load(choice.source, choice, key)


def read_tinysd() -> Path:
    """Registry loader of "tinysd-captioned": the folder, once its files matched their recorded hashes."""
    return TINYSD_DIR


@functools.lru_cache(maxsize=3)
def _load_cached(source: str, key: str, choice: ModelChoice) -> Loaded:
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()  # no install advice ("accelerate") in the server log
    device = get_device()
    dtype = half_dtype(device) or torch.float32
    try:
        pipe = StableDiffusionPipeline.from_pretrained(
            source, dtype=dtype, safety_checker=None, requires_safety_checker=False, use_safetensors=True
        )
    except (OSError, ValueError, RuntimeError) as err:
        raise ModelUnavailable(f"{choice.title} could not be loaded: {str(err).splitlines()[0][:300]}") from None
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    if device.type == "cuda" and os.environ.get(COMPILE_ENV, "").strip() == "1":
        pipe.unet = torch.compile(pipe.unet)
    return Loaded(key, choice.title, pipe, choice, device, dtype)


def _load(source: str, choice: ModelChoice, key: str) -> Loaded:
    with _load_lock:  # two users asking for the same model at once load it once
        return _load_cached(source, key, choice)


# --- settings ---


@dataclass(frozen=True)
class Settings:
    prompt: str
    negative: str = ""
    scale: float = 5.0  # classifier-free guidance scale s: uncond + s * (cond - uncond); 1 = no guidance
    rescale: float = 0.0  # guidance rescale phi (Lin et al. 2023), 0 = off
    steps: int = 20
    scheduler: str = "DDIM"
    seed: int = 0  # image i of a batch uses seed + i, so a sweep column of seed k shows the same image
    size: int = 0  # 0: the model's default size
    batch: int = 4
    guidance_until: float = 1.0  # the share of the steps that use guidance; after it, the conditional prediction only

    def describe(self) -> str:
        parts = [f"prompt {self.prompt!r}"]
        if self.negative:
            parts.append(f"negative {self.negative!r}")
        parts += [f"CFG {self.scale:g}", f"{self.scheduler}", f"{self.steps} steps", f"seed {self.seed}"]
        if self.rescale:
            parts.append(f"rescale {self.rescale:g}")
        if self.guidance_until < 1:
            parts.append(f"guidance for the first {self.guidance_until:.0%} of steps")
        return ", ".join(parts)


def _number(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"The {name} must be a number.") from None
    if not math.isfinite(number):
        raise ValueError(f"The {name} must be a finite number.")
    return number


def _text(value, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"The {name} must be text.")
    if len(value) > MAX_PROMPT_CHARS:
        raise ValueError(
            f"The {name} is {len(value):,} characters long; at most {MAX_PROMPT_CHARS:,} are accepted (the model "
            "reads only its first tokens anyway)."
        )
    return value.strip()


def check(settings: Settings, loaded: Loaded) -> Settings:
    """Settings made safe for `loaded`, or ValueError with a sentence that says what is wrong."""
    scale = _number(settings.scale, "guidance scale")
    if not 0 <= scale <= MAX_SCALE:
        raise ValueError(f"The guidance scale must be between 0 and {MAX_SCALE:g}.")
    rescale = _number(settings.rescale, "guidance rescale")
    if not 0 <= rescale <= 1:
        raise ValueError("The guidance rescale must be between 0 and 1.")
    steps = _number(settings.steps, "number of steps")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"The number of steps must be between 1 and {MAX_STEPS}.")
    if settings.scheduler not in schedulers_for(loaded.choice):
        raise ValueError(
            f"The sampler {str(settings.scheduler)[:40]!r} does not apply to this model: choose one of "
            f"{', '.join(schedulers_for(loaded.choice))}."
        )
    seed = _number(settings.seed, "seed")
    if not 0 <= seed < 2**31:
        raise ValueError("The seed must be a whole number from 0 to 2,147,483,647.")
    batch = _number(settings.batch, "number of images")
    if not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"The number of images must be between 1 and {MAX_BATCH}.")
    size = int(_number(settings.size, "size")) or loaded.choice.sizes[0]
    if size not in loaded.choice.sizes:
        raise ValueError(
            f"{loaded.title} makes images of {', '.join(f'{s} x {s}' for s in loaded.choice.sizes)} pixels, not {size}."
        )
    until = _number(settings.guidance_until, "guidance cut-off")
    if not 0 <= until <= 1:
        raise ValueError("The share of guided steps must be between 0 and 1.")
    return replace(
        settings,
        prompt=_text(settings.prompt, "prompt"),
        negative=_text(settings.negative, "negative prompt"),
        scale=scale,
        rescale=rescale,
        steps=int(steps),
        seed=int(seed),
        batch=int(batch),
        size=size,
        guidance_until=until,
    )


def prompt_notices(settings: Settings, loaded: Loaded) -> list[str]:
    """What the user should know about how the prompts will be read (cut, empty)."""
    tokenizer = loaded.pipe.tokenizer
    notices = []
    if not settings.prompt:
        notices.append("The prompt is empty: these are the model's unconditional samples.")
    for name, text in (("prompt", settings.prompt), ("negative prompt", settings.negative)):
        n = len(tokenizer(text).input_ids)
        if n > tokenizer.model_max_length:
            notices.append(
                f"The {name} is {n} tokens long; the model reads only the first {tokenizer.model_max_length} "
                "(start and end tokens included), so the rest is ignored."
            )
    if settings.scale <= 1 and settings.negative:
        notices.append("A negative prompt acts only through guidance: at a scale of 1 or less it is not used.")
    return notices
