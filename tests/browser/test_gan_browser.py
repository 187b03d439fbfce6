"""The GAN tab in a real browser: play, watch the picture update, pause, pick a preset."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_no_error_toast

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
STEP = re.compile(r"Step ([\d,]+)\.")


def _step(page) -> int:
    match = STEP.search(page.locator("#gan-status").inner_text())
    return int(match.group(1).replace(",", "")) if match else -1


def test_play_pause_and_a_preset(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="GAN").click()
    page.wait_for_selector("#gan-field img")
    page.wait_for_function("document.querySelector('#gan-status').innerText.startsWith('Step 0.')")

    first_picture = page.locator("#gan-field img").get_attribute("src")
    page.locator("#gan-play").click()
    page.wait_for_function(
        "(() => { const m = document.querySelector('#gan-status').innerText.match(/Step ([\\d,]+)\\./);"
        " return m && +m[1].replace(/,/g, '') > 100; })()"
    )
    page.locator("#gan-pause").click()
    page.wait_for_function("document.querySelector('#gan-status').innerText.endsWith('Paused.')")
    assert _step(page) > 100
    assert page.locator("#gan-field img").get_attribute("src") != first_picture  # the picture moved on
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "gan-healthy.png"), full_page=True)

    page.locator("#gan-preset input").click()
    page.get_by_role("option", name="Mode collapse").click()
    page.wait_for_function("document.querySelector('#gan-preset-caption').innerText.includes('Mode collapse')")
    page.wait_for_function("document.querySelector('#gan-status').innerText.includes('Reset')")
    assert float(page.locator("#gan-lr-g input").input_value()) == 0.005  # the preset's generator rate
    page.screenshot(path=str(artifacts_dir / "gan-preset.png"), full_page=True)
    assert_no_error_toast(page)
    assert not errors, errors
    page.close()


def test_image_gan_snapshots_and_a_live_run(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="GAN").click()
    page.get_by_role("tab", name="Images (DCGAN)").click()
    page.wait_for_function("document.querySelector('#dcgan-shipped-status').innerText.includes('Step 10,000')")
    trained = page.locator("#dcgan-shipped-grid img").get_attribute("src")

    page.locator("#dcgan-snapshot input[type=number]").fill("0")  # the untrained generator
    page.locator("#dcgan-snapshot input[type=number]").press("Enter")
    page.wait_for_function(
        "document.querySelector('#dcgan-shipped-status').innerText.includes('Step 0**') ||"
        " document.querySelector('#dcgan-shipped-status').innerText.startsWith('Step 0 ')"
    )
    assert page.locator("#dcgan-shipped-grid img").get_attribute("src") != trained
    page.locator("#dcgan-snapshot input[type=number]").fill("4")
    page.locator("#dcgan-snapshot input[type=number]").press("Enter")
    page.wait_for_function("document.querySelector('#dcgan-shipped-status').innerText.includes('Step 2,000')")

    page.locator("#dcgan-play").click()
    page.wait_for_function(
        "(() => { const m = document.querySelector('#dcgan-status').innerText.match(/Step ([\\d,]+)\\./);"
        " return m && +m[1].replace(/,/g, '') > 20; })()"
    )
    page.wait_for_selector("#dcgan-plot .js-plotly-plot")
    page.locator("#dcgan-pause").click()
    page.wait_for_function("document.querySelector('#dcgan-status').innerText.endsWith('Paused.')")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "gan-images.png"), full_page=True)
    assert_no_error_toast(page)
    assert not errors, errors
    page.close()
