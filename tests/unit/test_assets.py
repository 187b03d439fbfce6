"""core/assets.py: the registry's hashes, the offline fallback, and Hub-id validation.

Nothing here may touch the network: HF_HUB_OFFLINE=1 is set by every test that could reach the
Hub, and `urllib.request.urlopen` is replaced by a function that fails the test if it is called.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest

from core import assets, hub

TIKTOKEN_FILES = {  # registry key, file locator -> where openai_public.py publishes its hash
    ("gpt2", "gpt2_vocab_bpe"): ("gpt2", "vocab_bpe_hash"),
    ("gpt2", "gpt2_encoder_json"): ("gpt2", "encoder_json_hash"),
    ("cl100k_base", "cl100k_blob"): ("cl100k_base", "expected_hash"),
    ("o200k_base", "o200k_blob"): ("o200k_base", "expected_hash"),
}


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("a unit test tried to reach the network")

    monkeypatch.setattr(hub.urllib.request, "urlopen", no_network)
    return monkeypatch


def _files():
    return [
        pytest.param(asset, spec, id=f"{asset.key}-{spec.locate.rpartition(':')[2]}")
        for asset in assets.REGISTRY.values()
        for spec in asset.files
    ]


def _published_hashes() -> dict[tuple[str, str], str]:
    """(function, keyword) -> hash, read from the text of tiktoken's own registry module."""
    import importlib.util

    spec = importlib.util.find_spec("tiktoken_ext.openai_public")
    source = Path(spec.origin).read_text(encoding="utf-8")
    found = {}
    for function, body in re.findall(r"^def (\w+)\(\):\n(.*?)(?=^def |\Z)", source, flags=re.M | re.S):
        for keyword, digest in re.findall(r"(\w+_hash)\s*=\s*\"([0-9a-f]{64})\"", body):
            found[function, keyword] = digest
    return found


def test_registry_is_not_empty_and_every_tokenizer_has_files():
    tokenizers = assets.of_kind("tokenizer")
    assert {a.key for a in tokenizers} >= {"gpt2", "cl100k_base", "o200k_base", "bert", "sentencepiece", "clip"}
    for asset in tokenizers:
        assert asset.files, f"{asset.key} has no embedded file to check"
        for spec in asset.files:
            assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256), spec


@pytest.mark.parametrize(("asset", "spec"), _files())
def test_embedded_file_matches_its_recorded_hash(asset, spec):
    path = spec.path()
    assert path.is_file(), path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256
    assert assets.sha256_of(path) == spec.sha256


@pytest.mark.parametrize("asset", list(assets.REGISTRY.values()), ids=list(assets.REGISTRY))
def test_verify_files_accepts_every_registered_asset(asset):
    assets.verify_files(asset)  # raises AssetError on a missing or altered file


def test_verify_files_rejects_a_wrong_hash():
    real = assets.get("clip")
    forged = assets.Asset(
        key="forged",
        kind="tokenizer",
        title="Forged CLIP",
        loader=real.loader,
        source="test",
        licence="MIT",
        files=(assets.EmbeddedFile(real.files[0].locate, "0" * 64),),
    )
    with pytest.raises(assets.AssetError, match="does not match its published hash"):
        assets.verify_files(forged)


def test_verify_files_rejects_a_missing_file(monkeypatch, tmp_path):
    import core.tokenizer_files

    monkeypatch.setattr(core.tokenizer_files, "clip_bpe", lambda: tmp_path / "gone.txt.gz")
    with pytest.raises(assets.AssetError, match=r"gone\.txt\.gz is missing"):
        assets.verify_files(assets.get("clip"))


def test_reference_hashes_were_found_in_tiktoken():
    published = _published_hashes()
    for function, keyword in TIKTOKEN_FILES.values():
        assert (function, keyword) in published, f"tiktoken_ext.openai_public has no {keyword} in {function}()"


@pytest.mark.parametrize(("where", "reference"), list(TIKTOKEN_FILES.items()), ids=[k[1] for k in TIKTOKEN_FILES])
def test_tiktoken_hashes_equal_those_tiktoken_publishes(where, reference):
    key, locator = where
    published = _published_hashes()[reference]
    (spec,) = [s for s in assets.get(key).files if s.locate.endswith(f":{locator}")]
    assert spec.published_hash
    assert spec.sha256 == published


def test_sha256_of_streams_a_file(tmp_path):
    path = tmp_path / "blob"
    data = bytes(range(256)) * 9000  # larger than one 1 MiB read block
    path.write_bytes(data)
    assert assets.sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_unknown_key_raises_keyerror():
    with pytest.raises(KeyError, match="No asset named 'no-such-asset'"):
        assets.get("no-such-asset")
    with pytest.raises(KeyError):
        assets.load("no-such-asset")
    with pytest.raises(KeyError):
        assets.load("no-such-asset", prefer_hub=True)


def test_hub_status_offline_is_immediate(offline):
    started = time.perf_counter()
    status = assets.hub_status(refresh=True)
    assert time.perf_counter() - started < 0.5
    assert status.reachable is False
    assert "offline" in status.detail
    assert "HF_HUB_OFFLINE" in status.detail


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_hub_offline_flag_spellings(offline, value):
    offline.setenv("HF_HUB_OFFLINE", value)
    assert assets.hub_status().reachable is False


def test_hub_status_unreachable_when_the_request_fails(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_hub_cache", None)  # the cached answer lives in core.hub

    def refuse(*args, **kwargs):
        raise hub.urllib.error.URLError("no route to host")

    monkeypatch.setattr(hub.urllib.request, "urlopen", refuse)
    status = assets.hub_status(refresh=True)
    assert status.reachable is False
    assert "not reachable" in status.detail


@pytest.mark.parametrize("key", [a.key for a in assets.REGISTRY.values() if a.hub_id])
def test_prefer_hub_offline_falls_back_to_the_embedded_default(offline, key):
    loaded = assets.load(key, prefer_hub=True)
    assert loaded.origin == "embedded"
    assert loaded.value is assets.load_embedded(key)
    assert loaded.notice
    assert "embedded" in loaded.notice
    assert assets.get(key).title in loaded.notice
    assert "\n" not in loaded.notice


def test_prefer_hub_offline_notice_is_one_sentence(offline):
    notice = assets.load("gpt2", prefer_hub=True).notice
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", notice.strip()) if s]
    assert len(sentences) == 1, notice


@pytest.mark.parametrize("key", [a.key for a in assets.REGISTRY.values() if not a.hub_id])
def test_prefer_hub_without_a_hub_id_is_silent(offline, key):
    loaded = assets.load(key, prefer_hub=True)
    assert loaded.origin == "embedded"
    assert loaded.notice is None


def test_plain_load_has_no_notice_and_is_shared():
    first, second = assets.load("bert"), assets.load("bert")
    assert first.origin == second.origin == "embedded"
    assert first.notice is None
    assert first.value is second.value  # built once, shared read-only


@pytest.mark.parametrize("hub_id", ["", "   ", "a b", "owner/na\tme", "x" * 200, "o/" + "n" * 95])
def test_load_hub_rejects_malformed_ids(offline, hub_id):
    with pytest.raises(assets.AssetError) as caught:
        assets.load_hub("tokenizer", hub_id)
    assert type(caught.value) is assets.AssetError  # not HubUnavailable: the id is checked first
    assert "is not a Hub id" in str(caught.value)
    assert len(str(caught.value)) < 120  # long ids are cut in the message


def test_load_hub_offline_raises_hub_unavailable(offline):
    def must_not_load(*args, **kwargs):
        raise AssertionError("the Hub loader ran although the Hub is offline")

    offline.setattr(assets, "_load_from_hub", must_not_load)
    with pytest.raises(assets.HubUnavailable, match="not reachable"):
        assets.load_hub("tokenizer", "openai-community/gpt2")
    assert issubclass(assets.HubUnavailable, assets.AssetError)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(assets.CACHE_ENV, str(tmp_path / "cache"))
    assert assets.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").is_dir()


def test_registry_hashes_match_the_training_cards():
    """A retrained checkpoint whose new hash was not recorded would be refused at load time."""
    from scripts.record_hashes import HASHES_PY, updated_source

    _, stale = updated_source(HASHES_PY.read_text())
    assert stale == [], f"run `python -m scripts.record_hashes` (out of date: {stale})"
