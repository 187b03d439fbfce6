"""The Tokenizer tab in a real browser (Debian's chromium driven by Playwright).

Each test operates the tab like a user and saves a screenshot under test-artifacts/ (look at them:
a page that shows an error box is a failure even if the assertions pass).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_error_toast

TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.wait_for_selector("#tok-compare-view .tok")
    yield page
    page.close()


def type_text(page, text: str) -> None:
    page.locator("#tok-text textarea").fill(text)


def test_compare_view_shows_real_tokens_and_links_spans(page, artifacts_dir):
    assert "Device: CPU" in page.locator("#pg-header-strip").inner_text()
    columns = page.locator("#tok-compare-view .tokx-col")
    assert columns.count() == 4
    type_text(page, "Tokenizers split naïve words 你好 🤖")
    page.wait_for_function("document.querySelector('#tok-compare-view').innerText.includes('naïve')")
    # click the first token of GPT-2's column: overlapping tokens light up in the other columns
    page.locator("#tok-compare-view .tokx-col").first.locator(".tok").first.click()
    linked_columns = page.locator("#tok-compare-view .tokx-col:has(.tok.linked)")
    assert linked_columns.count() == 4
    assert "token 1 of" in page.locator("#tok-compare-view .tokx-detail").inner_text()
    stats = page.locator("#tok-stats").inner_text()
    assert "GPT-2 BPE" in stats and "o200k_base" in stats
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "tokenizers-compare.png", full_page=True)


def test_sample_picker_and_whitespace_toggle(page, artifacts_dir):
    page.locator("#tok-sample input").click()
    page.get_by_role("option", name="Python code").click()
    page.wait_for_function("document.querySelector('#tok-text textarea').value.startsWith('def fibonacci')")
    page.wait_for_function("document.querySelector('#tok-compare-view').innerText.includes('fibonacci')")
    assert page.locator("#tok-compare-view .ws").count() > 0  # spaces drawn as dots
    page.locator("#tok-ws input").uncheck()
    page.wait_for_function("document.querySelectorAll('#tok-compare-view .ws').length === 0")
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "tokenizers-python-code.png", full_page=True)


def test_bpe_replay(page, artifacts_dir):
    page.get_by_role("tab", name="How BPE got here").click()
    page.locator("#tok-word textarea, #tok-word input").first.fill(" unbelievably")
    page.locator("#tok-replay-btn").click()
    page.wait_for_selector("#tok-replay-view .bpe-block")
    summary = page.locator("#tok-replay-view .bpe-summary").inner_text()
    assert "GPT-2 BPE" in summary and "merges" in summary
    assert page.locator("#tok-replay-view .pair").count() >= 3
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "tokenizers-bpe-replay.png", full_page=True)


def test_train_your_own_bpe(page, artifacts_dir):
    page.get_by_role("tab", name="Train your own BPE").click()
    page.locator("#tok-train-btn").click()
    page.wait_for_function("document.querySelector('#tok-train-status').innerText.includes('Learned')")
    assert "744 merges" in page.locator("#tok-train-status").inner_text()  # vocabulary 1000 = 256 bytes + 744
    assert page.locator("#tok-trained-view .tok").count() > 10
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "tokenizers-train.png", full_page=True)
    # the trained BPE joins the comparison
    page.get_by_role("tab", name="Compare").click()
    page.wait_for_function("document.querySelector('#tok-compare-view').innerText.includes('Your BPE')")


def test_tokens_per_language_chart(page, artifacts_dir):
    page.get_by_role("tab", name="Tokens per language").click()
    page.wait_for_selector("#tok-chart .js-plotly-plot")
    page.wait_for_selector("#tok-chart .legend")
    legend = page.locator("#tok-chart .legend").text_content()  # SVG: no innerText
    assert "cl100k_base" in legend and "SentencePiece" in legend
    assert_no_error_toast(page)
    page.screenshot(path=artifacts_dir / "tokenizers-languages.png", full_page=True)


def test_bad_input_shows_a_message_not_a_crash(page, artifacts_dir):
    type_text(page, "")
    page.wait_for_function("document.querySelector('#tok-notice').innerText.includes('empty')")
    page.locator("#tok-hub-id textarea, #tok-hub-id input").first.fill("no-such/tokenizer")
    page.locator("#tok-hub-add").click()
    page.wait_for_function("document.querySelector('#tok-hub-notice').innerText.includes('not reachable')")
    page.wait_for_timeout(1500)  # the redraw that follows must not wipe the Hub message
    assert "not reachable" in page.locator("#tok-hub-notice").inner_text()
    assert "empty" in page.locator("#tok-notice").inner_text()
    page.screenshot(path=artifacts_dir / "tokenizers-bad-input.png", full_page=True)
    # and the tab still works afterwards
    type_text(page, "still works")
    page.wait_for_function("document.querySelector('#tok-compare-view').innerText.includes('works')")
    assert_no_error_toast(page)
