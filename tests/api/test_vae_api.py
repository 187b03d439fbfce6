"""The VAE endpoints, driven through gradio_client against the running app.

The shipped checkpoints get retrained, so these tests check behaviour and structure (what comes
back, what is refused and with which message, what is seeded), never the metric values of a model.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from gradio_client.utils import Status
from PIL import Image, ImageDraw

from core import vae_models
from tests.conftest import local_client

MODELS = list(vae_models.models())
MODEL_2D = "vae-2d-mnist"
MODEL_16D = "vae-16d-mnist"
ENDPOINTS = {
    "/vae_model",
    "/vae_beta_tradeoff",
    "/vae_decode_point",
    "/vae_decode",
    "/vae_manifold",
    "/vae_interpolate",
    "/vae_encode_for_sliders",
    "/vae_slide",
    "/vae_one_pass",
    "/vae_train_live",
    "/vae_stop_live",
    "/vae_reset_live",
}
GENERIC_ERROR = "has not enabled verbose error reporting"  # what a client sees for an unhandled exception


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return local_client(app_url)


def _figure(plot: dict) -> dict:
    assert plot["type"] == "plotly"
    return json.loads(plot["plot"])


def _image(path: str) -> Image.Image:
    with Image.open(path) as image:
        image.load()
    return image


def _raw_call(app_url: str, api_name: str, body: str) -> tuple[str, object]:
    """Send a hand-written JSON body (gradio_client cannot send NaN or Infinity: they are not JSON,
    but the server's parser takes them) and return the final event and its data."""
    url = f"{app_url}gradio_api/call/{api_name}"
    request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}/{event_id}", timeout=60) as response:
        text = response.read().decode()
    event, data = None, None
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") in ("complete", "error"):
            event, data = lines["event"], json.loads(lines["data"])
    return event, data


def _raw_error(app_url: str, api_name: str, body: str) -> str:
    event, data = _raw_call(app_url, api_name, body)
    assert event == "error", data
    return str((data or {}).get("error"))


def _stroke_png(path, size=(280, 280)) -> str:
    """A dark stroke on white, the way a learner draws a "1"."""
    picture = Image.new("RGB", size, "white")
    ImageDraw.Draw(picture).line([(150, 40), (130, 240)], fill="black", width=22)
    picture.save(path)
    return str(path)


def _editor(path: str) -> dict:
    """An ImageEditor value as gradio_client sends it: an uploaded picture as background and composite."""
    return {"background": handle_file(path), "layers": [], "composite": handle_file(path)}


# --- model cards and the latent map ---


def test_vae_endpoints_are_listed_and_offer_every_shipped_model(client: Client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert ENDPOINTS <= set(api)
    assert MODEL_2D in MODELS and MODEL_16D in MODELS
    assert set(api["/vae_model"]["parameters"][0]["type"]["enum"]) == set(MODELS)


@pytest.mark.parametrize("key", MODELS)
def test_every_model_has_a_card_and_a_latent_map(client: Client, key):
    card, plot, dim_x, dim_y = client.predict(key, api_name="/vae_model")
    latent_dim = vae_models.load(key).latent_dim
    assert "ELBO" in card and "nats" in card and "KL" in card
    figure = _figure(plot)
    classes = [trace["name"] for trace in figure["data"]]
    assert len(classes) == 10 and classes[0].startswith("0: ")
    axis = figure["layout"]["xaxis"]["title"]["text"]
    assert axis == ("z₁" if latent_dim == 2 else "UMAP 1")
    assert [value for _, value in dim_x["choices"]] == list(range(latent_dim))
    assert (dim_x["value"], dim_y["value"]) == (0, 1)


def test_beta_tradeoff_shows_three_maps_and_a_table(client: Client):
    *plots, summary = client.predict(api_name="/vae_beta_tradeoff")
    titles = [_figure(plot)["layout"]["title"]["text"] for plot in plots]
    assert titles == ["β = 0.5", "β = 1", "β = 4"]
    table = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 3 and "KL" in table[0] and "ELBO" in table[0]


# --- decoding one point ---


def test_decode_a_typed_latent_of_a_2d_model(client: Client):
    path, where = client.predict(MODEL_2D, 0.5, -1, api_name="/vae_decode")
    assert where == "z = (0.50, -1.00)"
    image = _image(path)
    assert image.width == image.height and image.width % 28 == 0
    again, _ = client.predict(MODEL_2D, "0.5,-1", api_name="/vae_decode_point")
    assert _image(again).tobytes() == image.tobytes()  # the same latent, the same picture


def test_typed_coordinates_on_a_16d_model_are_refused_plainly(client: Client):
    with pytest.raises(AppError, match="2-D model"):
        client.predict(MODEL_16D, 0.5, -1, api_name="/vae_decode")


def test_map_point_on_a_umap_picture_decodes_the_nearest_test_latent(client: Client):
    path, where = client.predict(MODEL_16D, "0.5,-1", api_name="/vae_decode_point")
    assert where.startswith("test image #") and "16-D latent mean" in where
    assert _image(path).width % 28 == 0


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ("abc", "two numbers separated by a comma"),
        ("1,2,3", "two numbers separated by a comma"),
        ("nan,1", "finite"),
        ("1e9,0", "limited to"),
    ],
)
def test_bad_map_points_get_a_clear_message(client: Client, point, message):
    with pytest.raises(AppError, match=message):
        client.predict(MODEL_2D, point, api_name="/vae_decode_point")


def test_an_empty_map_point_changes_nothing(client: Client):
    image, where = client.predict(MODEL_2D, "", api_name="/vae_decode_point")
    assert where == ""


# --- manifold ---


def _manifold(client: Client, key=MODEL_2D, n=15, low=-3.0, high=3.0, spacing="quantile", dims=(0, 1)):
    return client.predict(key, n, low, high, spacing, *dims, api_name="/vae_manifold")


def test_manifold_draws_an_n_by_n_grid(client: Client):
    plot, note = _manifold(client, n=15)
    figure = _figure(plot)
    assert figure["data"][0]["type"] == "heatmap"
    assert "15 x 15" in figure["layout"]["title"]["text"]
    assert "Decoded 225 latents" in note
    _, linear_note = _manifold(client, n=4, spacing="linear")
    assert "Decoded 16 latents" in linear_note


@pytest.mark.parametrize(
    ("n", "low", "high", "message"),
    [
        (15, -1e9, 3.0, r"within \+-50"),
        (15, -3.0, 1e9, r"within \+-50"),
        (15, 3.0, 3.0, "below"),
        (15, 3.0, -3.0, "below"),
        (1, -3.0, 3.0, "minimum"),
        (31, -3.0, 3.0, "maximum"),
    ],
)
def test_manifold_refuses_bad_ranges_and_sizes(client: Client, n, low, high, message):
    with pytest.raises(AppError, match=message):
        _manifold(client, n=n, low=low, high=high)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("15, NaN, 3.0", "below"),
        ("15, -3.0, Infinity", "+-50"),
        ("15, -Infinity, 3.0", "+-50"),
        ("15, null, 3.0", "two numbers"),  # what an emptied number box sends
    ],
)
def test_manifold_refuses_nan_infinity_and_empty_bounds(app_url, client: Client, data, message):
    error = _raw_error(app_url, "vae_manifold", f'{{"data": ["{MODEL_2D}", {data}, "linear", 0, 1]}}')
    assert message in error
    plot, note = _manifold(client, n=5)  # and the next request is served as usual
    assert "Decoded 25 latents" in note


def test_manifold_grid_size_nan_gets_a_clear_message(app_url):
    error = _raw_error(app_url, "vae_manifold", f'{{"data": ["{MODEL_2D}", NaN, -3, 3, "linear", 0, 1]}}')
    assert "grid size" in error.lower(), error


def test_manifold_axes_can_be_swapped(client: Client):
    """Across = z2, Up = z1: a choice the Across/Up dropdowns offer."""
    plot, _ = _manifold(client, n=4, dims=(1, 0))
    layout = _figure(plot)["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == ("z₂", "z₁")


def test_manifold_of_a_16d_model_walks_two_chosen_dimensions(client: Client):
    client.predict(MODEL_16D, api_name="/vae_model")  # offers the 16 dimensions in this session
    plot, note = _manifold(client, key=MODEL_16D, n=5, dims=(3, 7))
    layout = _figure(plot)["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == ("z₄", "z₈")
    assert "held at 0" in note
    with pytest.raises(AppError, match="two different latent dimensions"):
        _manifold(client, key=MODEL_16D, n=5, dims=(2, 2))


# --- interpolation ---


def _interpolate(client: Client, a=("test image", 3, None), b=("test image", 2, None), frames=6, kind="both", key=None):
    return client.predict(key or MODEL_2D, *a, *b, frames, kind, api_name="/vae_interpolate")


def _gif_frames(path: str) -> int:
    with open(path, "rb") as file:
        assert file.read(4) == b"GIF8"
    with Image.open(path) as gif:
        return gif.n_frames


@pytest.mark.parametrize("kind", ["linear", "spherical", "both"])
def test_interpolation_between_two_test_images(client: Client, kind):
    strip, plot, gif, summary = _interpolate(client, frames=6, kind=kind)
    rows = 2 if kind == "both" else 1
    picture = _image(strip)
    assert picture.width >= 6 * 28 and picture.height >= rows * 28
    paths = [t["name"] for t in _figure(plot)["data"] if t["name"].endswith(" path")]
    assert paths == ([f"{kind} path"] if kind != "both" else ["linear path", "spherical path"])
    assert _gif_frames(gif) >= 6  # the frames, played forward and back
    assert summary.startswith("Endpoints are the latent means of test #3") and "test #2" in summary
    assert "|z|" in summary


def test_both_paths_make_a_taller_strip_than_one(client: Client):
    one = _image(_interpolate(client, kind="linear")[0])
    both = _image(_interpolate(client, kind="both")[0])
    assert both.width == one.width and both.height > one.height


def test_interpolation_in_a_16d_model_draws_on_the_umap_picture(client: Client):
    strip, plot, gif, summary = _interpolate(client, key=MODEL_16D, frames=4, kind="spherical")
    assert "UMAP picture" in summary
    assert "spherical path" in [t["name"] for t in _figure(plot)["data"]]
    assert _gif_frames(gif) >= 4


def test_interpolation_from_an_uploaded_drawing(client: Client, tmp_path):
    drawing = _stroke_png(tmp_path / "stroke.png")
    strip, plot, gif, summary = _interpolate(client, a=("drawing or upload", 0, _editor(drawing)), kind="linear")
    assert "your picture" in summary
    assert _image(strip).width >= 6 * 28


@pytest.mark.parametrize("editor", [None, {"background": None, "layers": [], "composite": None}])
def test_interpolation_without_a_drawing_says_so(client: Client, editor):
    with pytest.raises(AppError, match="No picture"):
        _interpolate(client, a=("drawing or upload", 0, editor))


def test_interpolation_from_a_blank_page_says_so(client: Client, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (280, 280), "white").save(blank)
    with pytest.raises(AppError, match="blank"):
        _interpolate(client, a=("drawing or upload", 0, _editor(str(blank))))


def test_interpolation_from_a_test_image_number_out_of_range(client: Client):
    with pytest.raises(AppError, match="numbered 0 to"):
        _interpolate(client, b=("test image", 5000, None))


def test_a_huge_upload_is_refused_with_its_size(client: Client, tmp_path):
    huge = tmp_path / "huge.png"
    Image.new("L", (7000, 7000), 255).save(huge, optimize=True)  # 49 megapixels in ~60 kB
    with pytest.raises(AppError, match="megapixels"):
        _interpolate(client, a=("drawing or upload", 0, _editor(str(huge))))


def test_a_non_image_upload_gets_a_clear_message(client: Client, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n")
    with pytest.raises(AppError) as refused:
        _interpolate(client, a=("drawing or upload", 0, _editor(str(notes))))
    strip, *_ = _interpolate(client, kind="linear")  # the server keeps serving
    assert _image(strip).width > 0
    assert GENERIC_ERROR not in str(refused.value) and "image" in str(refused.value).lower(), str(refused.value)


# --- sliders ---


def test_sliders_start_from_a_16d_latent_and_move(client: Client):
    *updates, image, plot, note = client.predict(MODEL_16D, 5, api_name="/vae_encode_for_sliders")
    assert len(updates) == 16 and all(u["visible"] for u in updates)
    assert note.startswith("Started from the latent mean of test #5") and "Marker:" in note
    values = [u["value"] for u in updates]
    path, plot, note = client.predict(MODEL_16D, *values, api_name="/vae_slide")
    assert _image(path).width % 28 == 0
    assert "current z" in [t["name"] for t in _figure(plot)["data"]]
    assert "Marker:" in note
    moved = [max(-4.0, min(4.0, v + 2.0)) if i == 0 else v for i, v in enumerate(values)]
    moved_path, _, _ = client.predict(MODEL_16D, *moved, api_name="/vae_slide")
    assert _image(moved_path).size == _image(path).size


def test_sliders_of_a_2d_model_show_two_dimensions(client: Client):
    *updates, image, plot, note = client.predict(MODEL_2D, 5, api_name="/vae_encode_for_sliders")
    assert [u["visible"] for u in updates] == [True, True] + [False] * 14
    path, plot, note = client.predict(MODEL_2D, 1.0, -1.0, *([0.0] * 14), api_name="/vae_slide")
    marker = [t for t in _figure(plot)["data"] if t["name"] == "current point"]
    assert marker and (marker[0]["x"], marker[0]["y"]) == ([1.0], [-1.0])


def test_slider_values_beyond_the_range_are_refused(client: Client):
    with pytest.raises(AppError, match="maximum"):
        client.predict(MODEL_16D, *([60.0] * 16), api_name="/vae_slide")


def test_nan_and_missing_slider_values_do_not_break_the_server(app_url, client: Client):
    zeros = ", ".join(["0"] * 15)
    error = _raw_error(app_url, "vae_slide", f'{{"data": ["{MODEL_16D}", NaN, {zeros}]}}')
    assert "finite" in error
    with pytest.raises(AppError):  # gradio's slider refuses None before the handler runs
        client.predict(MODEL_16D, None, *([0.0] * 15), api_name="/vae_slide")
    path, _, _ = client.predict(MODEL_16D, *([0.0] * 16), api_name="/vae_slide")
    assert _image(path).width > 0


# --- one pass, taken apart ---


def test_one_pass_is_seeded(client: Client):
    first = client.predict(MODEL_2D, "test image", 7, None, 0, api_name="/vae_one_pass")
    again = client.predict(MODEL_2D, "test image", 7, None, 0, api_name="/vae_one_pass")
    other = client.predict(MODEL_2D, "test image", 7, None, 1, api_name="/vae_one_pass")
    x, posterior, decoded, spread, summary = first
    assert "nats" in summary and "test #7" in summary and "seed 0" in summary
    assert again[-1] == summary
    assert other[-1] != summary and "seed 1" in other[-1]
    bars = _figure(posterior)["data"][0]
    assert bars["type"] == "bar" and bars["x"] == ["z₁", "z₂"]
    assert _image(x).size == _image(decoded).size
    assert _image(spread).width > _image(spread).height  # 16 draws in two rows of eight


def test_one_pass_of_a_drawing(client: Client, tmp_path):
    drawing = _stroke_png(tmp_path / "stroke.png")
    *_, summary = client.predict(MODEL_16D, "drawing or upload", 0, _editor(drawing), 3, api_name="/vae_one_pass")
    assert "your picture" in summary and "nats" in summary


def test_one_pass_with_a_bad_seed_says_what_a_seed_is(client: Client):
    with pytest.raises(AppError, match="seed"):
        client.predict(MODEL_2D, "test image", 7, None, -5, api_name="/vae_one_pass")


# --- train live ---


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_train_live_streams_until_done(app_url):
    client = local_client(app_url)  # a session of its own
    job = client.submit("mnist", 1.0, 0.5, 0, api_name="/vae_train_live")
    job.result(timeout=120)
    frames = job.outputs()
    assert len(frames) >= 3
    assert frames[0][-1] == "Starting…"  # the session reaches the browser before the first step
    assert all("Step " in status for *_, status in frames[1:])
    assert "Done." not in frames[1][-1] and "Done." in frames[-1][-1]
    losses, latent_map, status = frames[-1]
    assert {t["name"] for t in _figure(losses)["data"]} >= {"reconstruction", "KL"}
    assert "step" in _figure(latent_map)["layout"]["title"]["text"]
    *_, reset = client.predict(api_name="/vae_reset_live")
    assert reset.startswith("Reset")


def test_stop_ends_a_long_run_of_the_same_session_only(app_url):
    client, stranger = local_client(app_url), local_client(app_url)
    job = client.submit("mnist", 1.0, 20, 0, api_name="/vae_train_live")
    try:
        assert _wait(lambda: len(job.outputs()) >= 1, 60), "no frame within a minute"
        stranger.predict(api_name="/vae_stop_live")  # another session's Stop leaves this run alone
        time.sleep(1.5)
        assert not job.done()
        asked = time.monotonic()
        client.predict(api_name="/vae_stop_live")
        assert _wait(job.done, 10), "the run did not stop within 10 s"
        assert time.monotonic() - asked < 10
        status = job.outputs()[-1][-1]
        assert "Ended early: stopped" in status and "Done." not in status
    finally:
        client.predict(api_name="/vae_stop_live")


def test_stop_right_after_train_is_pressed_ends_the_run(app_url):
    """The Stop a learner presses a second after Train, before the first frame has come back."""
    client = local_client(app_url)
    job = client.submit("mnist", 1.0, 20, 0, api_name="/vae_train_live")
    try:
        assert _wait(lambda: job.status().code in (Status.PROCESSING, Status.ITERATING), 30)
        time.sleep(0.3)
        client.predict(api_name="/vae_stop_live")
        stopped = _wait(job.done, 10)
    finally:
        _wait(lambda: len(job.outputs()) >= 1, 30)  # by then the session holds the run: end it
        client.predict(api_name="/vae_stop_live")
        _wait(job.done, 10)
    assert stopped, "Stop pressed before the first frame was ignored: the run went on"
    assert "Ended early: stopped" in job.outputs()[-1][-1]


def test_train_live_refuses_bad_settings(client: Client):
    with pytest.raises(AppError, match="maximum"):
        client.predict("mnist", 100, 0.5, 0, api_name="/vae_train_live")
    with pytest.raises(AppError, match="minimum"):
        client.predict("mnist", 1.0, 0, 0, api_name="/vae_train_live")


def test_train_live_with_a_bad_seed_says_what_a_seed_is(client: Client):
    with pytest.raises(AppError, match="seed"):
        client.predict("mnist", 1.0, 0.5, -3, api_name="/vae_train_live")
