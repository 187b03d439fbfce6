"""Every tab exports what is on screen as a picture file stamped with what made it.

The VAE, diffusion, flow and guidance exports are exercised in their own tabs' API tests; these
cover the tokenizer, attention and GAN tabs: a real PNG arrives, it holds the picture, and its
white strip at the bottom carries written text (the stamp). Exporting before anything exists is
a clear message.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from core.gan2d import GANConfig
from tabs.gan import setting_values
from tabs.tokenizers import DEFAULT_KEYS, SOURCES
from tests.conftest import local_client

LAYERS = ["surface", "real", "fake"]


@pytest.fixture
def client(app_url) -> Client:
    return local_client(app_url)  # a session of its own: the GAN exports read session state


def _stamped_png(path: str) -> np.ndarray:
    assert path.endswith(".png")
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("L"))
    stamp = pixels[-20:]
    assert (stamp < 100).any() and (stamp > 200).mean() > 0.7, "no stamp written below the picture"
    return pixels


def test_tokenizer_comparison_exports(client):
    text = "Tokenizers split 1,234,567 differently."
    path = client.predict(text, DEFAULT_KEYS[:2], SOURCES[0], True, None, api_name="/tokenizers_export")
    assert "gpt2" in path
    pixels = _stamped_png(path)
    assert pixels.shape[1] >= 2 * 380  # one column per tokenizer


def test_tokenizer_export_needs_a_tokenizer(client):
    with pytest.raises(AppError, match="at least one tokenizer"):
        client.predict("text", [], SOURCES[0], True, None, api_name="/tokenizers_export")


def test_attention_exports_the_grid_and_the_chosen_head(client):
    path = client.predict("The cat sat on the mat.", "minilm", 2, 3, 0, api_name="/attention_export")
    assert path.endswith("attention-minilm-L2H3.png")
    pixels = _stamped_png(path)
    assert pixels.shape[0] > 400 and pixels.std() > 10


def test_attention_export_of_bad_input_is_a_message(client):
    with pytest.raises(AppError):
        client.predict("", "minilm", 0, 0, 0, api_name="/attention_export")


def test_gan_export_needs_a_gan_then_stamps_its_step(client):
    with pytest.raises(AppError, match="no GAN yet"):
        client.predict(LAYERS, api_name="/gan_export")
    settings = setting_values(GANConfig())
    client.predict(LAYERS, None, *settings, api_name="/gan_reset")
    client.predict(LAYERS, "Both", None, *settings, api_name="/gan_step")
    path = client.predict(LAYERS, api_name="/gan_export")
    assert path.endswith("-step1-seed0.png")
    assert _stamped_png(path).shape[1] == 480


def test_dcgan_exports_a_shipped_snapshot_and_the_live_grid(client):
    path = client.predict("mnist", 2, 5, api_name="/dcgan_snapshot_export")
    assert "seed5" in path
    _stamped_png(path)
    with pytest.raises(AppError, match="no live DCGAN"):
        client.predict(api_name="/dcgan_export")
    client.predict("fashion", "non-saturating", 2e-4, 0, api_name="/dcgan_reset")
    path = client.predict(api_name="/dcgan_export")
    assert path.endswith("dcgan-live-fashion-step0-seed0.png")
    _stamped_png(path)
