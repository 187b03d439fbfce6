"""The guidance tab's endpoints through gradio_client: generate (streamed), inspect a step, GIF, sweep, curve, bad input."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from tests.conftest import local_client

GENERATE = ("tinysd", "", "a handwritten seven", "", 5, 0, 20, "DDIM", 0, 4, 0, 1)


@pytest.fixture
def client(app_url) -> Client:
    return local_client(app_url)  # one session per test: the last run lives in session state


def test_generate_streams_steps_then_inspect_and_export(client):
    job = client.submit(*GENERATE, api_name="/guidance_generate")
    updates = list(job)
    assert len(updates) >= 2  # at least one step picture before the result
    images, strip, inspector, status = updates[-1]
    assert status.startswith("Done in") and "CFG 5, DDIM, 20 steps, seed 0" in status
    assert inspector["maximum"] == 20
    assert Image.open(images).size[0] >= 4 * 128 and Image.open(strip).size[0] > Image.open(strip).size[1]
    picture, note = client.predict(*GENERATE[:2], 5, api_name="/guidance_inspect")
    assert Image.open(picture).size[1] > 200 and note.startswith("Step 5 of 20")
    assert "uncond + 5 × (cond − uncond)" in note
    gif = Image.open(client.predict(api_name="/guidance_gif"))
    assert gif.format == "GIF" and gif.n_frames >= 20


def test_sweep_grid_is_a_labelled_png(client):
    picture, png, note = client.predict(
        "tinysd",
        "",
        "a photo of a sneaker",
        "",
        0,
        10,
        "Euler",
        3,
        0,
        "1, 7.5",
        3,
        ["DDIM", "DPM++ 2M"],
        api_name="/guidance_sweep",
    )
    assert png.endswith("cfg-sweep-seed3.png") and Image.open(png).format == "PNG"
    assert note.startswith("12 images in")


def test_curve_comes_from_the_card(client):
    figure, note = client.predict(api_name="/guidance_curve")
    assert figure["type"] == "plotly" and "Negative prompt" in note


@pytest.mark.parametrize(
    "change, message",
    [
        ({2: "x" * 10_000}, "10,000 characters"),
        ({4: 99}, "between 0 and 30|maximum"),
        ({0: "sd15"}, "cannot reach"),
        ({0: "local", 1: "/etc"}, "no model_index.json"),
        ({7: "LCM"}, "not in the list of choices|does not apply"),
    ],
)
def test_bad_input_gets_a_sentence_and_the_next_request_works(client, change, message):
    args = list(GENERATE)
    for index, value in change.items():
        args[index] = value
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/guidance_generate")
    assert client.predict(*GENERATE[:-3], 1, 0, 1, api_name="/guidance_generate")[-1].startswith("Done in")


def test_inspect_and_export_before_generating_are_explained(client):
    _, note = client.predict("tinysd", "", 3, api_name="/guidance_inspect")
    assert note == "Generate first."
    with pytest.raises(AppError, match="Generate first"):
        client.predict(api_name="/guidance_gif")


@pytest.mark.parametrize("scales", ["", "one, two", "1, 99"])
def test_bad_sweep_scales_are_explained(client, scales):
    with pytest.raises(AppError, match=r"guidance scale|numbers"):
        client.predict("tinysd", "", "a seven", "", 0, 5, "DDIM", 0, 0, scales, 2, [], api_name="/guidance_sweep")


def test_2d_picture_of_guidance(client):
    figure, note = client.predict(2, 3, 0.5, ["guided"], api_name="/guidance_2d")
    assert figure["type"] == "plotly" and note.startswith("Scale 3: ")
    _, note = client.predict(2, 0, 0.5, ["unconditional", "conditional", "guided"], api_name="/guidance_2d")
    assert note.startswith("Scale 0: ")
    with pytest.raises(AppError, match="maximum value 10"):
        client.predict(2, 50, 0.5, ["guided"], api_name="/guidance_2d")
    with pytest.raises(AppError, match=r"fields to show|not in the list"):
        client.predict(2, 1, 0.5, ["sideways"], api_name="/guidance_2d")
