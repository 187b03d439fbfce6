"""The diffusion tab in a real browser: the forward process, a kept three-lane timeline, scrubbing, a branch, 2-D."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_error_toast

pytestmark = pytest.mark.browser

TIMEOUT_MS = 90_000


def _text(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def test_timeline_scrub_branch_and_2d(browser, app_url, artifacts_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url)
    page.get_by_role("tab", name="Diffusion").click()
    page.wait_for_selector("#diff-fwd-image img")
    page.wait_for_selector("#diff-schedule .js-plotly-plot")

    page.locator("#diff-run").click()
    page.wait_for_function("document.querySelector('#diff-status').innerText.startsWith('Done')")
    last = page.locator("#diff-lanes img").get_attribute("src")
    page.locator("#diff-step input[type=number]").fill("10")
    page.locator("#diff-step input[type=number]").press("Enter")
    page.wait_for_function("document.querySelector('#diff-status').innerText.startsWith('Step 10 of 50')")
    assert page.locator("#diff-lanes img").get_attribute("src") != last
    page.locator("#diff-status").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "diffusion-timeline.png"), full_page=True)

    page.locator("#diff-branch").click()
    page.wait_for_function("document.querySelector('#diff-branch-status').innerText.startsWith('Left:')")
    page.wait_for_selector("#diff-branch-image img")

    page.locator("#diff2d-its input[type=number]").fill("1500")
    page.locator("#diff2d-its input[type=number]").press("Enter")
    page.locator("#diff2d-train").click()
    page.wait_for_function("document.querySelector('#diff2d-status').innerText.includes('Now press Sample')")
    page.locator("#diff2d-sample").click()
    page.wait_for_function("document.querySelector('#diff2d-status').innerText.includes('MMD')")
    page.locator("#diff2d-step input[type=number]").fill("60")
    page.locator("#diff2d-step input[type=number]").press("Enter")
    page.wait_for_function("document.querySelector('#diff2d-status').innerText.includes('step 60 of 100')")
    page.wait_for_timeout(500)
    page.locator("#diff2d-plot").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "diffusion-2d.png"), full_page=True)
    assert_no_error_toast(page)
    assert not errors, errors
    page.close()
