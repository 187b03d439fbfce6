"""What the server hands out as files, and what it takes in: nothing outside the app's own files leaves it,
uploads are bounded, and the files it makes for the browser are cleaned up."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

import app

SECRET_PATHS = [
    "/etc/passwd",
    "../../../../../../etc/passwd",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    "app.py",  # the app's own source is not a served file
    "core/checkpoints.py",
    ".git/config",
    ".env",
    "~/.bashrc",
    "assets/../app.py",
]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.parametrize("path", SECRET_PATHS)
@pytest.mark.parametrize("route", ["gradio_api/file={}", "file={}", "gradio_api/file/{}", "static/{}", "{}"])
def test_paths_outside_what_the_app_serves_are_refused(app_url, route, path):
    status, body = _get(app_url + route.format(path))
    assert b"root:x:0:0" not in body and b"CHECKPOINTS" not in body and b"def build_app" not in body
    assert b"[core]" not in body  # .git/config
    if status == 200:  # the page itself (a front-end route), never a file's content
        assert body.lstrip().lower().startswith(b"<!doctype html")


def test_the_vendored_scripts_the_app_does_serve_come_through_the_same_route(app_url):
    """The control for the refusals above: the file route works, for what the app means to serve."""
    from tabs import bertviz_view

    url = bertviz_view.vendor_urls()[0]
    status, body = _get(app_url + url.lstrip("/"))
    assert status == 200 and len(body) > 10_000


def _upload(app_url: str, size: int) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\0" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        app_url + "gradio_api/upload",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_uploads_over_the_limit_are_refused_and_small_ones_accepted(app_url):
    assert app.MAX_UPLOAD == "2mb"
    assert _upload(app_url, 3 * 1024 * 1024) == 413
    assert _upload(app_url, 10_000) == 200


def test_cached_files_are_deleted_after_an_hour():
    demo = app.build_app()
    assert demo.delete_cache == app.CACHE_CLEANUP == (600, 3600)
