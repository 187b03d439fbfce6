"""Shared test set-up: everything offline, and one real app server for the API and browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# Tests never touch the network: the Hub is off, Gradio sends no analytics.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("PLAYGROUND_DEVICE", "cpu")

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
SERVER_START_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_client(url: str, **options):
    """A gradio_client session (one browser page) on a local test server.

    Certificate checks are off: the server speaks plain http, and with them on gradio_client loads
    the system's whole CA bundle for every file it downloads, CPU taken from the server under test."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False, **options)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextlib.contextmanager
def serve_app(log_path: Path, **env_overrides: str):
    """Start `python app.py` on a free port with these extra environment variables, wait until it
    answers, yield its URL, stop it afterwards."""
    port = _free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env_overrides}
    log = open(log_path, "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with {process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not answer within {SERVER_START_TIMEOUT_S} s; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def app_url(artifacts_dir: Path):
    """The app server the API and browser tests share."""
    with serve_app(artifacts_dir / "app-server.log") as url:
        yield url
