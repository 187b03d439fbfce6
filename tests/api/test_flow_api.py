"""The flow-matching endpoints through gradio_client: train, sample, scrub, solver chart, flow vs diffusion, and the
shipped image flows (sample, scrub, GIF, race against DDIM)."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.conftest import local_client


@pytest.fixture
def client(app_url) -> Client:
    return local_client(app_url)  # one session per test: flows live in session state


def test_train_sample_scrub_and_compare(client):
    loss, status = client.predict("moons", "ot", 1000, 0, api_name="/flow_train")
    assert loss["type"] == "plotly" and status.endswith("Now press Sample.")
    particles, slider, status, densities = client.predict("rk4", 8, 0, True, api_name="/flow_sample")
    assert slider["value"] == slider["maximum"] == 8 and "Straightness" in status and "MMD" in status
    assert densities["type"] == "plotly"
    _, status = client.predict(0, True, api_name="/flow_scrub")
    assert "Straightness" in status and status.endswith("Showing t = 0.00.")
    chart = client.predict(0, api_name="/flow_solvers")
    assert chart["type"] == "plotly"
    *_, note = client.predict(5, 0, api_name="/flow_compare")
    assert note.startswith("Both start from the same 500 noise points (seed 0);")


def test_sampling_before_training_and_reflow_first_are_explained(client):
    with pytest.raises(AppError, match="Train a flow first"):
        client.predict("euler", 10, 0, True, api_name="/flow_sample")
    with pytest.raises(AppError, match="Reflow"):
        client.predict("8gaussians", "reflow", 500, 0, api_name="/flow_train")


@pytest.mark.parametrize(
    "args, message",
    [
        (("moons", "nope", 500, 0), "not in the list of choices|coupling"),
        (("moons", "ot", 500, -2), "seed"),
        (("moons", "ot", 50_000, 0), "iterations|maximum"),
    ],
)
def test_bad_training_settings_get_a_clear_message(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/flow_train")


def test_image_flow_sample_scrub_gif_and_race(client):
    lanes, slider, status = client.predict("mnist", "7", "midpoint", 6, 3, 4, api_name="/flow_images_sample")
    assert lanes and slider["value"] == 6
    assert status.startswith("Done: Midpoint, 6 steps (12 network evaluations), seed 3")
    _, status = client.predict(2, api_name="/flow_images_scrub")
    assert status.startswith("Step 2 of 6: t = 0.17")
    gif = client.predict(api_name="/flow_images_gif")
    assert gif.endswith("flow-mnist-midpoint-6steps-seed3.gif")
    picture, note = client.predict("fashion", "mixed", 8, 1, 4, api_name="/flow_images_race")
    assert picture and note.startswith("Both start from the same noise (seed 1) and call their network 8 times")


@pytest.mark.parametrize(
    "args, message",
    [
        (("mnist", "mixed", "euler", 0, 0, 4), "steps|minimum"),
        (("mnist", "mixed", "euler", 10, 0, 40), "batch|images|maximum"),
        (("mnist", "mixed", "euler", 10, -5, 4), "seed"),
    ],
)
def test_bad_image_flow_settings_get_a_clear_message(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/flow_images_sample")
