"""The guidance tab in a real browser: generate with the x0 preview strip, inspect a step, sweep, the measured curve."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_error_toast

pytestmark = pytest.mark.browser

TIMEOUT_MS = 90_000


def test_generate_inspect_and_sweep(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="SD guidance").click()
    page.wait_for_selector("#sd-curve .js-plotly-plot")
    page.locator("#sd-run").click()
    page.wait_for_function("document.querySelector('#sd-status').innerText.startsWith('Done in')")
    page.wait_for_function("document.querySelector('#sd-noise-note').innerText.startsWith('Step 20 of 20')")
    page.locator("#sd-step input[type=number]").fill("6")
    page.locator("#sd-step input[type=number]").press("Enter")
    page.wait_for_function("document.querySelector('#sd-noise-note').innerText.startsWith('Step 6 of 20')")
    page.wait_for_selector("#sd-noise img")
    page.wait_for_timeout(500)
    page.locator("#sd-images").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "guidance-preview-strip.png"), full_page=True)

    page.locator("#sweep-run").click()
    page.wait_for_function("document.querySelector('#sweep-note').innerText.includes('images in')")
    page.wait_for_selector("#sweep-image img")
    page.wait_for_timeout(500)
    page.locator("#sweep-image").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "guidance-sweep.png"), full_page=True)
    assert_no_error_toast(page)
    assert not errors, errors
    page.close()


def test_unreachable_hub_model_is_a_message_not_a_crash(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.get_by_role("tab", name="SD guidance").click()
    page.locator("#sd-model input").click()
    page.get_by_role("option", name="Stable Diffusion 1.5 (Hub: stable-diffusion-v1-5)").click()
    page.wait_for_function("document.querySelector('#sd-steps input[type=number]').value === '30'")
    page.locator("#sd-run").click()
    page.get_by_text("cannot reach").first.wait_for()
    page.close()


def test_the_2d_picture_of_guidance(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="SD guidance").click()
    page.get_by_text("4 · Guidance in 2-D: the three vector fields").click()
    page.wait_for_function("document.querySelector('#g2d-note').innerText.startsWith('Scale 3:')")
    page.wait_for_selector("#g2d-plot .js-plotly-plot")
    page.wait_for_timeout(500)
    page.locator("#g2d-plot").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "guidance-2d.png"), full_page=False)
    assert_no_error_toast(page)
    assert not errors, errors
    page.close()
