"""Deep links and presenter mode in a real browser: a link opens its tab with its settings, says what it
ignored, the copy button writes the link of what is on screen, and presenter mode hides the advanced controls."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.browser.conftest import assert_no_error_toast

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000


def test_a_link_opens_its_tab_with_its_settings_and_names_what_it_ignored(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url + "?tab=diffusion&sampler=euler&steps=12&seed=5&eta=7&bogus=1")
    page.wait_for_function("document.querySelector('#pg-link-notice')?.innerText.includes('bogus')")
    notice = page.locator("#pg-link-notice").inner_text()
    assert "eta='7' is outside 0 to 1" in notice
    assert page.get_by_role("tab", name="Diffusion").get_attribute("aria-selected") == "true"
    assert page.locator("#diff-steps input[type=number]").input_value() == "12"
    assert page.locator("#diff-seed input").input_value() == "5"
    assert page.locator("#diff-eta input[type=number]").input_value() == "0"  # the bad value left it alone

    page.locator("#diff-steps input[type=number]").fill("30")
    page.locator("#diff-steps input[type=number]").press("Enter")
    tab_panel = page.locator("#diff-steps").locator("xpath=ancestor::div[@role='tabpanel']")
    tab_panel.locator(".pg-copy-link").click()
    page.wait_for_function(
        "[...document.querySelectorAll('.pg-link textarea, .pg-link input')].some(e => e.value.includes('tab=diffusion'))"
    )
    url = next(
        v for v in page.locator(".pg-link textarea, .pg-link input").evaluate_all("els => els.map(e => e.value)") if v
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["tab"] == "diffusion" and query["steps"] == "30" and query["sampler"] == "euler"
    page.screenshot(path=str(artifacts_dir / "deep-link.png"))
    assert_no_error_toast(page)

    page.goto(url)  # the copied link brings the same view back
    page.wait_for_function("document.querySelector('#diff-steps input[type=number]')?.value === '30'")
    assert page.locator("#pg-link-notice").is_hidden()
    assert not errors, errors
    page.close()


def test_presenter_mode_from_a_link_and_from_the_switch(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url + "?tab=diffusion&presenter=1")
    page.wait_for_function("document.body.classList.contains('pg-presenter')")
    assert page.locator("#diff-eta").is_hidden()  # an advanced control
    assert page.locator("#diff-steps").is_visible()
    page.screenshot(path=str(artifacts_dir / "presenter-mode.png"))
    page.locator("#pg-presenter input").uncheck()
    page.wait_for_function("!document.body.classList.contains('pg-presenter')")
    assert page.locator("#diff-eta").is_visible()
    assert_no_error_toast(page)
    page.close()


def test_a_show_me_preset_sets_its_controls_and_explains_itself(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url + "?tab=diffusion")
    page.locator("#diffusion-preset input").click()
    page.get_by_role("option", name="Too few steps").click()
    page.wait_for_function("document.querySelector('#diffusion-preset-caption').innerText.includes('three DDIM steps')")
    page.wait_for_function("document.querySelector('#diff-steps input[type=number]').value === '3'")
    page.locator("#diff-run").click()
    page.wait_for_function("document.querySelector('#diff-status').innerText.startsWith('Done: DDIM, 3 steps')")
    page.screenshot(path=str(artifacts_dir / "show-me-preset.png"))
    assert_no_error_toast(page)
    page.close()
