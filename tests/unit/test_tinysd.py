"""The shipped TinySD: it loads through the registry (hashes checked), follows its prompts under guidance,
and its card records the measured guidance curve the tab draws."""

from __future__ import annotations

import torch

from core import guidance as g
from core import guidance_quality as q
from core.evaluator import load_evaluator, predict


def test_guidance_makes_the_shipped_model_follow_its_prompt():
    pipe = g.load("tinysd").for_request("DDIM")
    prompts = ["a handwritten seven"] * 20
    shares = {}
    for scale in (1.0, 5.0):
        pictures = q.generate(pipe, prompts, scale, steps=20, seed=0)
        shares[scale] = (predict(load_evaluator("mnist"), pictures) == 7).float().mean().item()
    assert shares[5.0] >= 0.8 and shares[5.0] > shares[1.0], shares


def test_negative_prompt_steers_away_from_a_class():
    pipe = g.load("tinysd").for_request("DDIM")
    generic = ["a handwritten digit"] * 30
    steered = q.generate(pipe, generic, 5.0, steps=20, seed=0, negative=["a handwritten one"] * 30)
    assert (predict(load_evaluator("mnist"), steered) == 1).float().mean().item() <= 0.05


def test_card_records_a_rising_guidance_curve():
    curve, negative, how = q.measured()
    assert "DDIM, 20 steps, 25 images per class" in how
    for dataset in ("mnist", "fashion"):
        accuracy = {p["scale"]: p["accuracy"] for p in curve if p["dataset"] == dataset}
        assert set(accuracy) == set(q.CURVE_SCALES)
        assert max(accuracy.values()) >= 0.9 and accuracy[1.0] < max(accuracy.values()) - 0.3
    assert all(e["share_with"] < e["share_without"] for e in negative)


def test_pipeline_output_matches_the_image_convention():
    pictures = q.to_evaluator_images(torch.ones(2, 1, 32, 32))
    assert pictures.shape == (2, 1, 28, 28) and pictures.max() == 1.0
