"""Sessions that train live at the same time do not touch each other: each gets exactly what it would get
alone with the same seed (the flow, the VAE and the GAN, through the server, as two students would)."""

from __future__ import annotations

import json
import re

from gradio_client import Client

from core.gan2d import GANConfig
from tabs.gan import setting_values
from tests.conftest import local_client


def _without_timing(status: str) -> str:
    """A status line without its wall-clock part (the only thing allowed to differ)."""
    return re.sub(r"\([\d.]+ s this run\)|in [\d.]+ s|[\d.]+ s\b", "", status)


def _flow_run(client: Client):
    return client.submit("moons", "ot", 1000, 7, api_name="/flow_train")


def _flow_result(client: Client, job) -> tuple[str, str]:
    *_, status = job.result(timeout=300)
    *_, sampled, _ = client.predict("midpoint", 8, 3, False, api_name="/flow_sample")
    return _without_timing(status), sampled


def test_two_flows_trained_at_once_equal_one_trained_alone(app_url):
    first, second = local_client(app_url), local_client(app_url)
    jobs = [_flow_run(first), _flow_run(second)]  # both in the two live-training slots at once
    together = [_flow_result(client, job) for client, job in zip((first, second), jobs, strict=True)]
    alone_client = local_client(app_url)
    alone = _flow_result(alone_client, _flow_run(alone_client))
    assert "Now press Sample" in alone[0] and "Straightness" in alone[1]
    assert together[0] == together[1] == alone


def _vae_losses(job) -> list:
    losses, _, status = job.result(timeout=300)
    assert "Done." in status
    return [trace["y"] for trace in json.loads(losses["plot"])["data"]]


def test_two_vaes_trained_at_once_equal_one_trained_alone(app_url):
    clients = [local_client(app_url) for _ in range(3)]
    jobs = [client.submit("fashion", 2.0, 0.5, 11, api_name="/vae_train_live") for client in clients[:2]]
    together = [_vae_losses(job) for job in jobs]
    alone = _vae_losses(clients[2].submit("fashion", 2.0, 0.5, 11, api_name="/vae_train_live"))
    assert together[0] == together[1] == alone


def test_gan_steps_interleaved_between_two_sessions_equal_steps_taken_alone(app_url):
    settings = setting_values(GANConfig(dataset="ring", seed=5))
    layers = ["real", "fake"]
    a, b, alone = (local_client(app_url) for _ in range(3))
    for client in (a, b, alone):
        client.predict(layers, None, *settings, api_name="/gan_reset")
    for _ in range(4):  # a and b take turns
        *_, status_a = a.predict(layers, "Both", None, *settings, api_name="/gan_step")
        *_, status_b = b.predict(layers, "Both", None, *settings, api_name="/gan_step")
    for _ in range(4):
        *_, status_alone = alone.predict(layers, "Both", None, *settings, api_name="/gan_step")
    assert status_a.startswith("Step 4.")
    assert status_a == status_b == status_alone
