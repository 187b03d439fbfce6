"""The VAE tab in a real browser (Debian's chromium driven by Playwright).

Each test operates the tab like a learner (hover the latent map, open the manifold, interpolate
between test images and a drawing made with the mouse) and saves a screenshot under
test-artifacts/. The shipped checkpoints get retrained, so nothing here depends on what a model
decodes, only on what the page shows and that it shows no error.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import assert_no_error_toast

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
READING = re.compile(r"z = \((-?\d+\.\d\d), (-?\d+\.\d\d)\)")


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.set_default_timeout(TIMEOUT_MS)
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="VAE", exact=True).click()
    page.wait_for_selector("#vae-map .js-plotly-plot")
    yield page
    page.close()


def assert_no_error(page) -> None:
    """No error toast, no "Error" badge on any output, no uncaught script error."""
    assert_no_error_toast(page)
    badges = page.locator("[data-testid='status-tracker'] span.error")
    assert badges.count() == 0, badges.all_inner_texts()
    assert page.script_errors == []


def wait_for_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([selector, text]) => (document.querySelector(selector)?.innerText || '').includes(text)",
        arg=[selector, text],
    )


def hover_reading(page, fx: float, fy: float) -> tuple[float, float]:
    """Move the mouse to a fraction (fx, fy) of the plot area; return the z the page reports there,
    once it agrees with the point plotly's own axis ranges put under the mouse."""
    box = page.locator("#vae-map .nsewdrag").first.bounding_box()
    x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
    (x0, x1), (y0, y1) = page.locator("#vae-map .js-plotly-plot").evaluate(
        "plot => [plot._fullLayout.xaxis.range, plot._fullLayout.yaxis.range]"
    )
    expected = x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)  # left to right is z1; top to bottom, z2 falls
    tolerance = 0.02 * max(x1 - x0, y1 - y0)  # a few pixels, and the two-decimal reading
    page.mouse.move(x - 8, y - 8)
    page.mouse.move(x, y, steps=4)  # the page sends at most one point per 50 ms, the last one always
    try:
        page.wait_for_function(
            "([pattern, ex, ey, tol]) => { const m = (document.querySelector('#vae-where')?.innerText || '')"
            ".match(new RegExp(pattern)); return m && Math.abs(m[1] - ex) < tol && Math.abs(m[2] - ey) < tol; }",
            arg=[READING.pattern, *expected, tolerance],
            timeout=15_000,
        )
    except PlaywrightTimeout:
        pytest.fail(f"hovering at {expected} shows {page.locator('#vae-where').inner_text()!r}")
    match = READING.search(page.locator("#vae-where").inner_text())
    return float(match[1]), float(match[2])


def test_hovering_the_latent_map_decodes_the_point_under_the_mouse(page, artifacts_dir):
    assert page.locator("#vae-where").inner_text().strip() == ""
    left_top = hover_reading(page, 0.3, 0.3)
    page.wait_for_selector("#vae-decoded img")
    right_bottom = hover_reading(page, 0.7, 0.75)
    assert right_bottom[0] > left_top[0] and right_bottom[1] < left_top[1], (left_top, right_bottom)
    assert page.locator("#vae-decoded img").get_attribute("src")
    assert "ELBO" in page.locator("#vae-card").inner_text()
    assert_no_error(page)
    page.screenshot(path=artifacts_dir / "vae-latent-map.png", full_page=True)


def test_manifold_of_decoded_latents(page, artifacts_dir):
    page.get_by_role("tab", name="Manifold").click()
    page.wait_for_selector("#vae-manifold .js-plotly-plot .hm, #vae-manifold .js-plotly-plot image")
    wait_for_text(page, "#vae-manifold-note", "Decoded 225 latents")
    assert "15 x 15 decoded latents" in page.locator("#vae-manifold").inner_text()
    assert_no_error(page)
    page.screenshot(path=artifacts_dir / "vae-manifold.png", full_page=True)


def test_interpolating_between_test_images_and_a_drawing(page, artifacts_dir):
    page.get_by_role("tab", name="Interpolate").click()
    page.locator("#vae-interp-run").click()
    page.wait_for_selector("#vae-interp-strip img")
    wait_for_text(page, "#vae-interp-summary", "test #3")
    page.wait_for_selector("#vae-interp-map .js-plotly-plot")
    page.wait_for_selector("#vae-interp-gif a[download$='.gif']")  # the GIF export, ready to download
    assert_no_error(page)
    page.screenshot(path=artifacts_dir / "vae-interpolation.png", full_page=True)
    first_strip = page.locator("#vae-interp-strip img").get_attribute("src")

    # Start from a drawing: a stroke like a "1", made with the mouse and the editor's brush
    page.locator("#vae-a-source").get_by_text("drawing or upload").click()
    editor = page.locator("#vae-a-editor")
    editor.get_by_role("button", name="Brush", exact=True).click()
    box = editor.locator("canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx + 10, cy - 90)
    page.mouse.down()
    page.mouse.move(cx - 10, cy + 90, steps=25)
    page.mouse.up()
    page.locator("#vae-interp-run").click()
    wait_for_text(page, "#vae-interp-summary", "your picture")
    page.wait_for_function(
        "previous => document.querySelector('#vae-interp-strip img')?.getAttribute('src') !== previous",
        arg=first_strip,
    )
    assert "your picture -> test #2" in page.locator("#vae-interp-map").inner_text()
    assert_no_error(page)
    page.screenshot(path=artifacts_dir / "vae-interpolation-drawing.png", full_page=True)


def test_switching_model_after_choosing_a_high_dimension(page, artifacts_dir):
    """Across = z4 on the 16-D model, then back to a 2-D model: the manifold follows without an error."""
    page.locator("#vae-model input").click()
    page.get_by_role("option", name="MNIST, 16-D latent", exact=True).click()
    page.get_by_role("tab", name="Manifold").click()
    wait_for_text(page, "#vae-manifold-note", "held at 0")
    page.locator("#vae-dim-x input").click()
    page.get_by_role("option", name="z4", exact=True).click()
    page.locator("#vae-manifold-run").click()
    wait_for_text(page, "#vae-manifold", "z₄")
    page.locator("#vae-model input").click()
    page.get_by_role("option", name="MNIST, 2-D latent", exact=True).click()
    wait_for_text(page, "#vae-card", "MNIST, 2-D latent")
    page.wait_for_function(  # a new manifold, or an error
        "!(document.querySelector('#vae-manifold-note')?.innerText || '').includes('held at 0')"
        " || document.querySelector('.toast-body.error') !== null"
    )
    page.wait_for_timeout(1500)  # let every event the switch started finish
    page.screenshot(path=artifacts_dir / "vae-model-switch.png", full_page=True)
    assert_no_error(page)
