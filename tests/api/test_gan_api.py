"""The GAN endpoints through gradio_client: reset, steps, presets, play and pause, bad settings."""

from __future__ import annotations

import json
import time

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from core.gan2d import PRESETS, GANConfig
from tabs.gan import setting_values
from tests.conftest import local_client

DEFAULTS = GANConfig()
SETTINGS = setting_values(DEFAULTS)  # the tab's settings inputs, in order
LAYERS = ["surface", "manifold", "real", "fake", "arrows"]


@pytest.fixture
def client(app_url) -> Client:
    return local_client(app_url)  # one session per test: GANs live in session state


def _picture(path: str) -> Image.Image:
    with Image.open(path) as image:
        image.load()
    return image


def test_reset_draws_the_field_and_the_curves(client):
    field, curves, status = client.predict(LAYERS, None, *SETTINGS, api_name="/gan_reset")
    assert _picture(field).size == (480, 480)
    assert curves["type"] == "plotly" and json.loads(curves["plot"])["layout"]["xaxis2"]["title"]["text"]
    assert status.startswith("Step 0.") and "Reset" in status


@pytest.mark.parametrize(
    "which, logged", [("Both", {"d_loss", "g_loss"}), ("D only", {"d_loss"}), ("G only", {"g_loss"})]
)
def test_one_step_of_each_kind(client, which, logged):
    client.predict(LAYERS, None, *SETTINGS, api_name="/gan_reset")
    _, _, status = client.predict(LAYERS, which, None, *SETTINGS, api_name="/gan_step")
    assert status.startswith("Step 1." if which != "D only" else "Step 0.")
    assert all(name[0].upper() + " loss" in status for name in logged)


def test_same_seed_same_game_in_two_sessions(app_url):
    statuses = []
    for _ in range(2):
        client = local_client(app_url)
        client.predict(LAYERS, None, *SETTINGS, api_name="/gan_reset")
        for _ in range(3):
            *_, status = client.predict(LAYERS, "Both", None, *SETTINGS, api_name="/gan_step")
        statuses.append(status)
    assert statuses[0] == statuses[1]


def test_preset_fills_the_settings_and_explains_itself(client):
    out = client.predict("Vanishing gradient", api_name="/gan_preset")
    settings, caption = out[:-1], out[-1]
    expected = PRESETS["Vanishing gradient"][0]
    assert settings[1] == expected["loss"] and settings[5] == expected["d_steps"]
    assert caption.startswith("**Vanishing gradient.**")


def test_play_streams_frames_until_pause(client):
    client.predict(LAYERS, None, *SETTINGS, api_name="/gan_reset")
    job = client.submit(LAYERS, False, None, *SETTINGS, api_name="/gan_play")
    deadline = time.monotonic() + 60
    while len(job.outputs()) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(job.outputs()) >= 5, "fewer than 5 frames in a minute"
    asked = time.monotonic()
    client.predict(api_name="/gan_pause")
    while not job.done() and time.monotonic() - asked < 5:
        time.sleep(0.05)
    assert job.done(), "Pause did not end the run within 5 s"
    last = job.outputs()[-1][-1]
    assert last.endswith("Paused.")
    assert int(last.split()[1].rstrip(".").replace(",", "")) > 10  # it trained


@pytest.mark.parametrize(
    "index, value, message",
    [
        (0, "nope", "not in the list of choices"),  # gradio checks dropdowns itself
        (3, -1.0, "learning rate"),
        (4, 5.0, "learning rate"),
        (5, 0, "D steps|minimum"),
        (10, 1_000_000, "batch size|maximum"),
        (11, -3, "seed"),
    ],
)
def test_bad_settings_get_a_clear_message_and_the_next_request_works(client, index, value, message):
    settings = list(SETTINGS)
    settings[index] = value
    with pytest.raises(AppError, match=message):
        client.predict(LAYERS, None, *settings, api_name="/gan_reset")
    *_, status = client.predict(LAYERS, None, *SETTINGS, api_name="/gan_reset")
    assert status.startswith("Step 0.")


def test_drawn_data_needs_a_drawing(client):
    settings = ["drawn", *SETTINGS[1:]]
    with pytest.raises(AppError, match="drawing"):
        client.predict(LAYERS, None, *settings, api_name="/gan_reset")
