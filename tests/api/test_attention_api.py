"""The attention endpoints, driven through gradio_client against the running app."""

from __future__ import annotations

import json

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.conftest import local_client

TEXT = "The cat sat on the mat because it was tired."


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return local_client(app_url)


def test_attention_endpoints_are_listed(client: Client):
    endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/attention", "/attention_head", "/attention_query"} <= endpoints


def test_attention_returns_every_view(client: Client):
    out = client.predict(TEXT, "minilm", 0, 2, 3, api_name="/attention")
    grid, enlarged, inside_rows, inside_fig, summary, rollout_heat, rollout_bars, stats, notice, timing, *_ = out
    layout = json.loads(grid["plot"])["layout"]
    assert grid["type"] == "plotly"
    assert layout["xaxis"]["ticktext"] == [f"h{h}" for h in range(12)]  # every head...
    assert layout["yaxis"]["ticktext"] == [f"L{layer}" for layer in range(6)]  # ...of every layer
    labels = json.loads(enlarged["plot"])["data"][0]["x"]
    assert labels[0] == "0:[CLS]" and labels[3] == "3:sat" and labels[-1].endswith("[SEP]")
    assert len(inside_rows["data"]) == len(labels)
    assert "matches the model's own weights" in summary
    assert len(stats["data"]) == 72
    previous_token = [row[4] for row in stats["data"]]
    assert max(previous_token) > 0.9  # MiniLM has real previous-token heads
    assert notice == "" and "tokens" in timing and "kB" in timing


def test_selecting_a_head_and_a_query(client: Client):
    grid, enlarged, rows, inside_fig, summary = client.predict(TEXT, "minilm", 1, 5, 2, api_name="/attention_head")
    assert "Layer 1, head 5" in summary
    rows, inside_fig, summary, bars = client.predict(TEXT, "minilm", 1, 5, 4, api_name="/attention_query")
    assert "query 4" in summary and "Rollout for query 4" in bars["plot"]


def test_long_input_is_cut_with_a_notice(client: Client):
    out = client.predict("word " * 300, "minilm", 0, 0, 0, api_name="/attention")
    assert "only the first 126" in out[8]
    assert "128 tokens" in out[9]
    assert "Head statistics read the first 302 tokens" in out[8]  # 300 words + [CLS] + [SEP], under 512


@pytest.mark.parametrize("text", ["", "    "])
def test_empty_input_is_a_clear_error(client: Client, text):
    with pytest.raises(AppError, match="empty"):
        client.predict(text, "minilm", 0, 0, 0, api_name="/attention")


def test_unknown_model_is_refused(client: Client):
    with pytest.raises(AppError, match="Unknown model"):
        client.predict(TEXT, "no-such-model", 0, 0, 0, api_name="/attention")


def test_out_of_range_layer_and_head_are_clamped(client: Client):
    out = client.predict(TEXT, "minilm", 5, 11, 200, api_name="/attention")
    assert "Layer 5, head 11" in out[4]


@pytest.fixture(scope="module")
def gpt_key() -> str:
    from core.attention_models import MODELS

    if "gpt-kjv" not in MODELS:
        pytest.skip("this checkout ships no tiny GPT checkpoint")
    return "gpt-kjv"


def test_next_token_distribution_and_filters(client: Client, gpt_key):
    figure, summary = client.predict("And the LORD spake unto", gpt_key, 1.0, 0, 1.0, api_name="/next_token")
    assert "Moses" in figure["plot"]
    _, summary_k = client.predict("And God said, Let there be", gpt_key, 1.0, 5, 1.0, api_name="/next_token")
    assert summary_k.startswith("5 token(s) keep a chance")
    _, summary_greedy = client.predict("And God said, Let there be", gpt_key, 0.0, 0, 1.0, api_name="/next_token")
    assert summary_greedy.startswith("1 token(s)")


def test_generate_one_token_is_seeded(client: Client, gpt_key):
    text = "And the earth was"
    first = client.predict(text, gpt_key, 1.0, 0, 1.0, 7, False, api_name="/generate_one")
    again = client.predict(text, gpt_key, 1.0, 0, 1.0, 7, False, api_name="/generate_one")
    greedy = client.predict(text, gpt_key, 1.0, 0, 1.0, 7, True, api_name="/generate_one")
    assert first[0] == again[0] and first[0].startswith(text) and len(first[0]) > len(text)
    assert greedy[0].startswith(text)


def test_next_token_on_an_encoder_explains_why_not(client: Client):
    figure, summary = client.predict(TEXT, "minilm", 1.0, 0, 1.0, api_name="/next_token")
    assert figure is None and "causal model" in summary


def test_generate_rejects_bad_settings(client: Client, gpt_key):
    with pytest.raises(AppError, match="seed"):
        client.predict("And", gpt_key, 1.0, 0, 1.0, -5, False, api_name="/generate_one")


def test_hub_model_offline_says_so_plainly(client: Client):
    model, notice = client.predict("openai-community/gpt2", api_name="/add_hub_model")
    assert "not reachable" in notice
    model, notice = client.predict("not an id", api_name="/add_hub_model")
    assert "is not a Hub id" in notice
