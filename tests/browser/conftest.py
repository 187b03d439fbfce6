"""One Debian chromium for every browser test (never `playwright install`: it downloads a browser)."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # this machine's closed network refuses chromium's own calls
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run `make test` (it installs it) or apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def assert_no_error_toast(page) -> None:
    """A page that shows an error box has failed, whatever else the test checked."""
    errors = page.locator(".toast-body.error")
    assert errors.count() == 0, errors.all_inner_texts()
