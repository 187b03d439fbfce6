"""The flow-matching tab in a real browser: train, sample, follow the particles, compare with diffusion."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_error_toast

pytestmark = pytest.mark.browser

TIMEOUT_MS = 90_000


def test_vector_field_with_particles_and_the_side_by_side(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="Flow matching").click()
    page.get_by_label("Minibatch optimal transport (OT-CFM)").check()
    page.locator("#flow-train").click()
    page.wait_for_function("document.querySelector('#flow-train-status').innerText.includes('Now press Sample')")
    page.locator("#flow-sample").click()
    page.wait_for_function("document.querySelector('#flow-status').innerText.includes('Straightness')")
    page.locator("#flow-time input[type=number]").fill("8")
    page.locator("#flow-time input[type=number]").press("Enter")
    page.wait_for_function("document.querySelector('#flow-status').innerText.includes('t = 0.40')")
    page.wait_for_timeout(500)
    page.locator("#flow-plot").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "flow-field.png"), full_page=True)

    page.locator("#flow-compare").click()
    page.wait_for_function("document.querySelector('#flow-compare-note').innerText.startsWith('Both start')")
    page.wait_for_selector("#flow-compare-curves .js-plotly-plot")
    page.wait_for_timeout(500)
    page.locator("#flow-compare-diffusion").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "flow-vs-diffusion.png"), full_page=True)
    assert_no_error_toast(page)
    assert not errors, errors
    page.close()


def test_image_flow_run_and_race_against_ddim(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="Flow matching").click()
    page.locator("#flow-img-run").click()
    page.wait_for_function("document.querySelector('#flow-img-status').innerText.startsWith('Done: Euler, 20 steps')")
    page.locator("#flow-img-step input[type=number]").fill("10")
    page.locator("#flow-img-step input[type=number]").press("Enter")
    page.wait_for_function("document.querySelector('#flow-img-status').innerText.startsWith('Step 10 of 20')")
    page.locator("#flow-race").click()
    page.wait_for_function("document.querySelector('#flow-race-note').innerText.startsWith('Both start')")
    page.wait_for_selector("#flow-race-image img")
    page.wait_for_timeout(500)
    page.locator("#flow-img-lanes").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "flow-images.png"), full_page=True)
    assert_no_error_toast(page)
    assert not errors, errors
    page.close()
