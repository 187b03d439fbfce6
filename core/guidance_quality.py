"""Measured prompt adherence of a captioned-MNIST/Fashion text-to-image pipeline (TinySD).

The card of the shipped TinySD and `bench guidance` both measure with these functions, by the
evaluator classifiers every image tab uses (core.evaluator):
- guidance curve: for each guidance scale, images of every class asked for by its prompt
  ("a handwritten seven"); class accuracy (does the image show what the prompt asked?) and
  FD-classifier against real test images (how close the set is to real data, diversity included);
- negative prompt: a generic prompt ("a handwritten digit") alone, then with one class as the
  negative prompt; the share of images of that class should fall.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core import tinysd
from core.evaluator import evaluate_samples, load_evaluator, predict

CURVE_SCALES = (1.0, 2.0, 3.0, 5.0, 7.5, 10.0)
GENERIC_PROMPT = {"mnist": "a handwritten digit", "fashion": "a photo of clothing"}


def to_evaluator_images(images: torch.Tensor) -> torch.Tensor:
    """Pipeline output (N, 1, 32, 32) in [0, 1] -> the image convention (N, 1, 28, 28) in [-1, 1]."""
    p = tinysd.PAD
    return images[:, :1, p : p + 28, p : p + 28].float() * 2 - 1


@torch.no_grad()
def generate(
    pipe, prompts: list[str], scale: float, steps: int, seed: int, negative: list[str] | None = None, batch: int = 100
) -> torch.Tensor:
    """Images for `prompts` in the image convention, seeded per batch of `batch` prompts."""
    out = []
    for start in range(0, len(prompts), batch):
        result = pipe(
            prompt=prompts[start : start + batch],
            negative_prompt=None if negative is None else negative[start : start + batch],
            guidance_scale=scale,
            num_inference_steps=steps,
            generator=torch.Generator().manual_seed(seed + start),
            output_type="pt",
        )
        out.append(to_evaluator_images(result.images.cpu()))
    return torch.cat(out)


@dataclass(frozen=True)
class CurvePoint:
    dataset: str
    scale: float
    accuracy: float
    fd: float


def guidance_curve(pipe, per_class: int, steps: int, seed: int = 0, scales=CURVE_SCALES) -> list[CurvePoint]:
    """Class accuracy and FD-classifier of `per_class` images per class at each guidance scale."""
    points = []
    for dataset in tinysd.CAPTION_NAMES:
        labels = torch.arange(10).repeat_interleave(per_class)
        prompts = [tinysd.class_prompt(dataset, int(c)) for c in labels]
        for scale in scales:
            quality = evaluate_samples(dataset, generate(pipe, prompts, scale, steps, seed), labels)
            points.append(CurvePoint(dataset, scale, quality.accuracy, quality.fd))
    return points


@dataclass(frozen=True)
class NegativeEffect:
    dataset: str
    scale: float
    share_without: float  # mean over classes: share of images of class c for the generic prompt
    share_with: float  # the same with class c's prompt as the negative prompt
    per_class: tuple[tuple[float, float], ...]  # (without, with) for each class


def negative_prompt_effect(pipe, per_class: int, steps: int, scale: float = 5.0, seed: int = 0) -> list[NegativeEffect]:
    """How often each class appears for a generic prompt, without and with that class as negative prompt."""
    effects = []
    for dataset in tinysd.CAPTION_NAMES:
        generic = [GENERIC_PROMPT[dataset]] * (10 * per_class)
        baseline = evaluate_samples(dataset, generate(pipe, generic, scale, steps, seed)).histogram
        negated = [tinysd.class_prompt(dataset, c) for c in range(10) for _ in range(per_class)]
        steered = generate(pipe, generic, scale, steps, seed + 10_000, negated)
        predicted = predict(load_evaluator(dataset), steered).cpu()  # per block of per_class: class c negated
        shares = [
            (baseline[c], float((predicted[c * per_class : (c + 1) * per_class] == c).float().mean()))
            for c in range(10)
        ]
        effects.append(
            NegativeEffect(
                dataset,
                scale,
                sum(w for w, _ in shares) / 10,
                sum(n for _, n in shares) / 10,
                tuple(shares),
            )
        )
    return effects


def measured(card_path=None) -> tuple[list[dict], list[dict], str] | None:
    """The guidance curve and negative-prompt effect TinySD's card records, and how they were scored (None: no card)."""
    import json

    from core.guidance import TINYSD_DIR

    path = card_path or TINYSD_DIR.with_suffix(".json")
    try:
        card = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if "guidance_curve" not in card:
        return None
    return card["guidance_curve"], card.get("negative_prompt", []), card.get("scored_with", "")
