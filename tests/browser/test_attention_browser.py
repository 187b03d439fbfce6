"""The Attention tab in a real browser: open it, look at every view, pick a head and a query."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_error_toast

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.set_default_timeout(120_000)  # the first open loads the model
    page.goto(app_url)
    page.get_by_role("tab", name="Attention").click()
    page.wait_for_selector("#att-grid .js-plotly-plot")
    yield page
    page.close()


def test_grid_and_enlarged_head(page, artifacts_dir):
    assert page.locator("#att-grid .js-plotly-plot .hm, #att-grid .js-plotly-plot image").count() > 0
    assert "tokens" in page.locator("#att-timing").inner_text()
    page.locator("#att-head input[type=number]").fill("5")
    page.locator("#att-head input[type=number]").press("Tab")  # number box blur fires .release
    page.wait_for_function("document.querySelector('#att-head-plot').innerText.includes('head 5')")
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "attention-grid.png", full_page=True)


def test_inside_one_head_rollout_and_statistics(page, artifacts_dir):
    page.get_by_role("tab", name="Inside one head").click()
    page.wait_for_function("document.querySelector('#att-inside-summary').innerText.includes('matches the model')")
    page.screenshot(path=artifacts_dir / "attention-inside-head.png", full_page=True)
    page.locator("#att-query input").click()
    page.get_by_role("option", name="3: sat").click()
    page.wait_for_function("document.querySelector('#att-inside-summary').innerText.includes(\"query 3: 'sat'\")")
    page.get_by_role("tab", name="Rollout").click()
    page.wait_for_function("document.querySelector('#att-rollout-bars').innerText.includes('Rollout for query 3')")
    page.screenshot(path=artifacts_dir / "attention-rollout.png", full_page=True)
    page.get_by_role("tab", name="Head statistics").click()
    assert "previous-token" in page.locator("#att-stats").inner_text()
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "attention-stats.png", full_page=True)


def test_bertviz_views_render_offline(page, artifacts_dir):
    page.get_by_role("tab", name="BertViz").click()
    page.wait_for_selector("#att-bertviz-head iframe")
    frame = page.locator("#att-bertviz-head iframe").element_handle().content_frame()
    frame.wait_for_function("document.querySelectorAll('svg text').length > 10")
    labels = frame.eval_on_selector_all("svg text", "nodes => nodes.map(n => n.textContent)")
    assert "cat" in labels and "[CLS]" in labels
    assert "kB sent to the browser" in page.locator("#att-bertviz-head").inner_text()
    model_frame = page.locator("#att-bertviz-model iframe").element_handle().content_frame()
    model_frame.wait_for_function("document.querySelectorAll('svg line, svg rect').length > 100")
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "attention-bertviz.png", full_page=True)
