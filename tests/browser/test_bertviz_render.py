"""BertViz really draws, offline, inside Gradio: a tiny in-process app, Debian's chromium, Playwright.

The app serves only the views of tabs/bertviz_view.py (with assets/vendor/ as a static path), so the
test checks that module alone: the iframe loads the vendored d3 and jQuery from the app, never from
the network, and BertViz draws its SVG. Screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from core import attention_models as am
from tabs import bertviz_view as bv

gr = pytest.importorskip("gradio")
Image = pytest.importorskip("PIL.Image")

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
SHORT = "The cat sat on the mat."
LONG = "Attention lets every token of a sentence look at every other token, layer after layer. " * 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def runs():
    return {"short": am.run("minilm", SHORT), "long": am.run("minilm", LONG, max_tokens=126)}


@pytest.fixture(scope="module")
def app_url(runs):
    gr.set_static_paths(bv.static_paths())
    with gr.Blocks() as demo:
        gr.HTML(bv.head_view_html(runs["short"]), elem_id="bv-head")
        gr.HTML(bv.model_view_html(runs["short"]), elem_id="bv-model")
        gr.HTML(bv.model_view_html(runs["long"]), elem_id="bv-model-long")
        gr.HTML(bv.head_view_html(runs["long"], layer=4), elem_id="bv-head-long")
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    """The app's page (loaded once: drawing the long views takes seconds), recording its requests and failed responses, and console errors of it and its iframes."""
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.requests, page.failures, page.errors = [], [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("response", lambda response: response.status >= 400 and page.failures.append(response.url))
    page.on("requestfailed", lambda request: page.failures.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.goto(app_url)
    yield page
    page.close()


def view_frame(page, elem_id: str):
    """The Frame of a view's sandboxed srcdoc iframe (its origin is opaque, its base URL the app's)."""
    return page.locator(f"#{elem_id} iframe").element_handle().content_frame()


def assert_offline_and_clean(page, app_url, frame):
    """Every resource of the page and of the view's iframe came from the app; d3 and jQuery are the vendored ones.

    Playwright's request events do not cover a sandboxed srcdoc iframe, so the iframe is asked itself
    (Resource Timing), and for the versions of the libraries its script got.
    """
    host = urlparse(app_url).netloc
    inside = frame.evaluate("() => performance.getEntriesByType('resource').map(entry => entry.name)")
    assert sorted(inside) == sorted(app_url + url for url in bv.vendor_urls()), inside
    outside = [
        url
        for url in page.requests + inside
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).netloc != host
    ]
    assert outside == [], outside
    assert frame.evaluate("() => [d3.version, jQuery.fn.jquery]") == ["5.7.0", "2.2.4"]
    assert page.failures == [] and page.errors == [], (page.failures, page.errors)


def assert_fits(page, elem_id: str) -> None:
    """The iframe is as tall as BertViz's drawing: nothing cut off, no inner vertical scroll bar."""
    frame = view_frame(page, elem_id)
    drawing = frame.evaluate("() => document.documentElement.scrollHeight")
    height = page.locator(f"#{elem_id} iframe").bounding_box()["height"]
    assert drawing <= height <= drawing + 120, (drawing, height)


def _inked(png: bytes) -> float:
    """Share of the pixels of a PNG that are not white."""
    image = Image.open(io.BytesIO(png)).convert("L")
    return sum(image.histogram()[:250]) / (image.width * image.height)


def screenshot(page, selector: str, path, settle_s: float = 60) -> None:
    """A screenshot of a view once chromium has painted its drawing.

    The viewport grows to hold the view (an out-of-process iframe is painted only near the viewport),
    and shots are retaken until the iframe shows ink and two shots in a row are equal: tens of
    thousands of SVG lines take seconds to paint on a CPU, long after they are in the DOM.
    """
    viewport = page.viewport_size
    box = page.locator(selector).bounding_box()
    page.set_viewport_size(
        {"width": viewport["width"], "height": max(viewport["height"], int(box["y"] + box["height"]) + 40)}
    )
    frame = (
        page.locator(f"{selector} iframe")
        if page.locator(selector).evaluate("e => e.tagName") != "IFRAME"
        else page.locator(selector)
    )
    try:
        previous, deadline = None, time.monotonic() + settle_s
        while True:
            shot = page.locator(selector).screenshot()
            painted = _inked(frame.screenshot()) > 0.01
            if (painted and shot == previous) or time.monotonic() > deadline:
                break
            previous = shot if painted else None
            page.wait_for_timeout(700)
        Path(path).write_bytes(shot)
        assert painted, f"{selector} was still blank after {settle_s} s"
    finally:
        page.set_viewport_size(viewport)


def svg_texts(frame) -> list[str]:
    return frame.locator("svg text").evaluate_all("nodes => nodes.map(n => n.textContent)")


def test_head_view_draws_the_tokens_and_attention_lines(page, app_url, runs, artifacts_dir):
    frame = page.frame_locator("#bv-head iframe")
    frame.locator("svg text", has_text="cat").first.wait_for()
    frame.locator("#attention line").first.wait_for(state="attached")
    texts = svg_texts(frame)
    for label in runs["short"].labels:
        assert texts.count(label) >= 2, (label, texts)  # the left and the right column
    # one line per (head, query, key) of the shown layer, the weight as its opacity
    assert frame.locator("#attention line").count() == 12 * 9 * 9
    assert frame.locator("select#layer option").count() == 6  # every layer in the drop-down
    assert_offline_and_clean(page, app_url, view_frame(page, "bv-head"))
    assert_fits(page, "bv-head")
    screenshot(page, "#bv-head iframe", artifacts_dir / "attention-bertviz-head.png")
    # hovering "cat" (query 2) keeps only its lines: 12 heads x 9 keys
    frame.locator("svg text", has_text="cat").first.hover()
    assert frame.locator("#attention line[visibility='visible']").count() == 12 * 9
    screenshot(page, "#bv-head iframe", artifacts_dir / "attention-bertviz-head-hover.png")


def test_model_view_draws_every_head_and_opens_one(page, app_url, runs, artifacts_dir):
    frame = page.frame_locator("#bv-model iframe")
    frame.locator("svg text", has_text="Layers").wait_for()
    # 6 x 12 thumbnails of 9 x 9 lines each
    frame.locator("svg line").first.wait_for(state="attached")
    assert frame.locator("svg line").count() == 6 * 12 * 9 * 9
    texts = svg_texts(frame)
    assert "Heads" in texts and "Layers" in texts
    # click the thumbnail of layer 0, head 0: the detail view lists the tokens
    frame.locator("rect.attn_background").first.wait_for(state="attached")
    box = frame.locator("#attn_background_0_0").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    frame.locator("text.detail", has_text="Layer 0, Head 0").wait_for()
    detail = frame.locator(".detail text.token").evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert detail == runs["short"].labels * 2  # the left and the right column of the detail
    assert_offline_and_clean(page, app_url, view_frame(page, "bv-model"))
    assert_fits(page, "bv-model")
    screenshot(page, "#bv-model iframe", artifacts_dir / "attention-bertviz-model.png")


def test_long_model_view_says_what_it_cut_and_still_draws(page, app_url, artifacts_dir):
    notice = page.locator("#bv-model-long .bertviz-notice")
    assert "of 126 tokens" in notice.inner_text()
    frame = page.frame_locator("#bv-model-long iframe")
    frame.locator("svg text", has_text="Layers").wait_for()
    shown = int(notice.inner_text().split("first ")[1].split(" ")[0])
    frame.locator("#attn_background_5_11").wait_for(state="attached")  # the last thumbnail is drawn
    assert frame.locator("svg line").count() == 6 * 12 * shown * shown
    assert_offline_and_clean(page, app_url, view_frame(page, "bv-model-long"))
    assert_fits(page, "bv-model-long")
    screenshot(page, "#bv-model-long", artifacts_dir / "attention-bertviz-model-long.png")


def test_long_head_view_draws_all_126_tokens_of_its_layer(page, app_url, runs, artifacts_dir):
    frame = page.frame_locator("#bv-head-long iframe")
    frame.locator("#attention line").first.wait_for(state="attached")
    texts = svg_texts(frame)
    labels = runs["long"].labels
    assert texts.count("[SEP]") == 2 and texts.count("layer") == 2 * labels.count("layer")
    assert frame.locator("#attention line").count() == 12 * 126 * 126
    assert frame.locator("select#layer").input_value() == "4"  # the chosen layer is the one shown
    notice = page.locator("#bv-head-long").inner_text()
    assert ("Head view shows" in notice) == (frame.locator("select#layer option").count() < 6)
    assert_offline_and_clean(page, app_url, view_frame(page, "bv-head-long"))
    assert_fits(page, "bv-head-long")
    screenshot(page, "#bv-head-long", artifacts_dir / "attention-bertviz-head-long.png")
