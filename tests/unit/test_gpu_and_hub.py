"""Tests that need hardware or network this machine may lack: marked, and skipped with a reason.

- gpu: run wherever CUDA is present; skipped (and reported as skipped) on CPU-only machines.
- network: need the Hugging Face Hub; opt in with PLAYGROUND_NETWORK_TESTS=1 on a machine that
  reaches it (the default test run never touches the network).
"""

from __future__ import annotations

import os

import pytest
import torch

from core import assets, device
from core.tokenizers import get_tokenizer

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
needs_hub = pytest.mark.skipif(
    os.environ.get("PLAYGROUND_NETWORK_TESTS") != "1",
    reason="network test: set PLAYGROUND_NETWORK_TESTS=1 on a machine that reaches the Hugging Face Hub",
)


@pytest.mark.gpu
@needs_cuda
def test_cuda_is_picked_and_described(monkeypatch):
    monkeypatch.delenv(device.DEVICE_ENV, raising=False)
    device.get_device.cache_clear()
    try:
        picked = device.get_device()
        report = device.describe(picked)
        assert picked.type == "cuda"
        assert report.name == torch.cuda.get_device_name(0)
        assert report.half_dtype in ("bf16", "fp16")
        assert device.dtype_for(picked, allow_half=True) in (torch.bfloat16, torch.float16)
    finally:
        device.get_device.cache_clear()


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    if not assets.hub_status(refresh=True).reachable:
        pytest.fail("PLAYGROUND_NETWORK_TESTS=1 but the Hub is not reachable")


@pytest.mark.network
@needs_hub
def test_hub_gpt2_matches_the_embedded_gpt2(online):
    text = "Hub and embedded GPT-2 must agree, naïve 你好 🤖"
    hub, notice = get_tokenizer("gpt2", prefer_hub=True)
    embedded, _ = get_tokenizer("gpt2")
    assert notice is None and hub.title.endswith("(Hub)")
    assert [t.id for t in hub.encode(text)] == [t.id for t in embedded.encode(text)]


@pytest.mark.network
@needs_hub
def test_unknown_hub_id_gets_one_clear_sentence(online):
    with pytest.raises(assets.AssetError, match="Could not load a tokenizer named"):
        assets.load_hub("tokenizer", "this-owner-does-not-exist/nor-this-tokenizer")
