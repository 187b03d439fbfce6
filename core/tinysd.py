"""TinySD: the small text-to-image latent diffusion model the guidance tab runs offline.

It has the parts of Stable Diffusion (Rombach et al. 2022, https://arxiv.org/abs/2112.10752),
each a diffusers / transformers class, and is saved in the layout `StableDiffusionPipeline
.from_pretrained` reads, so the guidance tab runs one code path for TinySD and for real SD:
- tokenizer: CLIP's BPE (the tokenizer tab's "clip"), prompts cut at MAX_PROMPT_TOKENS tokens;
- text_encoder: a 2-layer `CLIPTextModel` (hidden size 64) trained from scratch together with
  the UNet: no pretrained CLIP weights exist on any package registry, and a frozen sentence
  encoder (MiniLM, which does) would not fit the pipeline's CLIP text-encoder slot;
- vae: an `AutoencoderKL` that turns a 32 x 32 grey image into a 4 x 8 x 8 latent (SD: 4 x 64 x 64
  for 512 x 512 RGB), trained first, then frozen;
- unet: a `UNet2DConditionModel` with cross-attention to the prompt at both resolutions;
- scheduler: SD's noise schedule (1,000 steps, "scaled_linear" betas 0.00085 to 0.012), epsilon
  prediction; the tab swaps the sampler with `from_config`.

Data: MNIST and Fashion-MNIST (28 x 28, padded to 32 x 32 with background), captioned from their
labels by CAPTIONS ("a handwritten seven", "a photo of a sneaker", ...), with generic captions
("a handwritten digit") and an empty caption for a share of the images, so the same model gives
the unconditional prediction classifier-free guidance needs (Ho and Salimans 2022,
https://arxiv.org/abs/2207.12598) and a generic prompt a negative prompt can steer away from.

Nothing heavy loads at import time; scripts/train_tinysd.py trains it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.images import MNIST_CLASSES

IMAGE_SIZE = 32  # 28 x 28 images padded by 2 pixels of background on every side
PAD = (IMAGE_SIZE - 28) // 2
MAX_PROMPT_TOKENS = 32  # with the start and end tokens; longer prompts are cut (as SD cuts at 77)
TEXT_HIDDEN = 64  # the text encoder's width = the UNet's cross-attention width

# How each class is named in captions (Fashion-MNIST's "T-shirt/top" reads badly in a sentence).
CAPTION_NAMES = {
    "mnist": MNIST_CLASSES,
    "fashion": (
        "t-shirt",
        "pair of trousers",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle boot",
    ),
}
CLASS_TEMPLATES = {
    "mnist": (
        "a handwritten {name}",
        "the digit {name}",
        "a handwritten digit {digit}",
        "the number {digit}",
        "{name}",
    ),
    "fashion": ("a photo of a {name}", "a {name}", "a picture of a {name}", "{name}"),
}
GENERIC_CAPTIONS = {
    "mnist": ("a handwritten digit", "a digit"),
    "fashion": ("a photo of clothing", "a piece of clothing"),
}
# The prompt of each class the card, the benchmark and the tab's examples use.
SCORING_TEMPLATE = {"mnist": "a handwritten {name}", "fashion": "a photo of a {name}"}
EMPTY_SHARE, GENERIC_SHARE = 0.1, 0.15  # of training captions: empty, generic; the rest name the class


def class_prompt(dataset: str, label: int) -> str:
    """The scoring prompt of one class, e.g. class_prompt("mnist", 7) == "a handwritten seven"."""
    return SCORING_TEMPLATE[dataset].format(name=CAPTION_NAMES[dataset][label])


def caption(dataset: str, label: int, rng: random.Random) -> str:
    """A training caption for an image of class `label`: empty, generic, or one naming the class."""
    draw = rng.random()
    if draw < EMPTY_SHARE:
        return ""
    if draw < EMPTY_SHARE + GENERIC_SHARE:
        return rng.choice(GENERIC_CAPTIONS[dataset])
    template = rng.choice(CLASS_TEMPLATES[dataset])
    return template.format(name=CAPTION_NAMES[dataset][label], digit=label)


@dataclass(frozen=True)
class Architecture:
    """The sizes of every part: small enough for 20 guided steps of 4 images in well under 2 s on 2 CPU cores."""

    unet_channels: tuple[int, ...] = (32, 64)
    vae_channels: tuple[int, ...] = (16, 32, 32)  # three levels: 32 -> 16 -> 8 pixels
    latent_channels: int = 4
    text_layers: int = 2
    text_heads: int = 4
    unet_heads: int = 4


def build_text_encoder(arch: Architecture = Architecture()):
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=49408,  # CLIP's BPE; only the tokens of the captions are trained
            hidden_size=TEXT_HIDDEN,
            intermediate_size=4 * TEXT_HIDDEN,
            num_hidden_layers=arch.text_layers,
            num_attention_heads=arch.text_heads,
            max_position_embeddings=MAX_PROMPT_TOKENS,
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
        )
    )


def build_vae(arch: Architecture = Architecture()):
    from diffusers import AutoencoderKL

    levels = len(arch.vae_channels)
    return AutoencoderKL(
        in_channels=1,
        out_channels=1,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=arch.vae_channels,
        layers_per_block=1,
        latent_channels=arch.latent_channels,
        norm_num_groups=8,
        sample_size=IMAGE_SIZE,
        mid_block_add_attention=False,
    )


def latent_size(arch: Architecture = Architecture()) -> int:
    return IMAGE_SIZE // 2 ** (len(arch.vae_channels) - 1)


def build_unet(arch: Architecture = Architecture()):
    from diffusers import UNet2DConditionModel

    levels = len(arch.unet_channels)
    return UNet2DConditionModel(
        sample_size=latent_size(arch),
        in_channels=arch.latent_channels,
        out_channels=arch.latent_channels,
        layers_per_block=1,
        block_out_channels=arch.unet_channels,
        down_block_types=("CrossAttnDownBlock2D",) * levels,
        up_block_types=("CrossAttnUpBlock2D",) * levels,
        cross_attention_dim=TEXT_HIDDEN,
        attention_head_dim=arch.unet_heads,
        norm_num_groups=16,
    )


def build_scheduler():
    """Stable Diffusion 1.x's training schedule, with DDIM as the shipped default sampler."""
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        prediction_type="epsilon",
    )


def build_tokenizer():
    """A copy of the tokenizer tab's CLIP tokenizer (that one is shared: never change it) cut at MAX_PROMPT_TOKENS."""
    import copy

    from core import assets

    tokenizer = copy.deepcopy(assets.load_embedded("clip"))
    tokenizer.model_max_length = MAX_PROMPT_TOKENS
    return tokenizer
