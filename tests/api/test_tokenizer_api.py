"""Drive every public endpoint of the running app through gradio_client, as an API user would."""

from __future__ import annotations

import json
import urllib.request

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.conftest import local_client

EMBEDDED = "Embedded (offline)"
EXPECTED_ENDPOINTS = {
    "/environment",
    "/tokenize",
    "/sample_text",
    "/token_table",
    "/add_hub_tokenizer",
    "/replay_bpe",
    "/train_bpe",
    "/tokens_per_language",
}


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return local_client(app_url)


def tokenize(client: Client, text: str, keys: list[str], show_whitespace: bool = True):
    return client.predict(text, keys, EMBEDDED, show_whitespace, api_name="/tokenize")


def test_every_public_endpoint_is_listed(client: Client):
    endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert endpoints >= EXPECTED_ENDPOINTS


def test_environment_reports_device_and_offline_hub(client: Client):
    strip = client.predict(api_name="/environment")
    assert "Device: CPU" in strip and "float32" in strip
    assert "HF_HUB_OFFLINE" in strip  # the test server runs with the Hub switched off


TEXT = "Hello world, naïve café 🤖"


def reference_gpt2():
    """tiktoken's own GPT-2 encoding, the reference the app's counts must match."""
    import tiktoken

    from core.tokenizer_files import tiktoken_cache_dir

    tiktoken_cache_dir()  # the embedded files, so tiktoken never downloads
    return tiktoken.get_encoding("gpt2")


def test_tokenize_four_tokenizers_side_by_side(client: Client):
    markup, stats, notice, timing, table_key = tokenize(client, TEXT, ["gpt2", "cl100k_base", "bert", "sentencepiece"])
    assert markup.count('class="tokx-col"') == 4
    rows = {row[0]: row for row in stats["data"]}
    assert set(rows) == {
        "GPT-2 BPE",
        "cl100k_base (GPT-4)",
        "BERT WordPiece (uncased)",
        "SentencePiece BPE (Mistral/Llama-style)",
    }
    assert rows["GPT-2 BPE"][1] == len(reference_gpt2().encode_ordinary(TEXT))
    assert rows["SentencePiece BPE (Mistral/Llama-style)"][4] == 4  # the robot emoji falls back to 4 bytes
    assert notice == ""
    assert "4 tokenizers" in timing and "ms on CPU" in timing
    assert table_key["value"] == "gpt2"


def test_sample_text_and_token_table(client: Client):
    code = client.predict("Python code", api_name="/sample_text")
    assert code.startswith("def fibonacci")
    table = client.predict(code, "cl100k_base", EMBEDDED, api_name="/token_table")
    assert table["headers"] == ["#", "token", "id", "bytes (hex)", "characters", "kind"]
    first = table["data"][0]
    assert first[1] == "def" and first[3] == "64 65 66" and first[4] == "0–3"


def test_replay_bpe_merges(client: Client):
    markup = client.predict(" tokenization", "gpt2", api_name="/replay_bpe")
    assert "11 merges" in markup and "2 token(s)" in markup


def test_train_bpe_then_compare_with_it(client: Client):
    merges, view, status, keys, replay_key = client.predict(
        "Python documentation (built-in help topics, ~460 kB)",
        "",
        600,
        "The quick brown fox",
        ["gpt2"],
        api_name="/train_bpe",
    )
    assert len(merges["data"]) == 600 - 256
    assert "Learned 344 merges" in status
    assert "trained" in keys["value"]
    # the trained tokenizer lives in this client's session: it can be compared and replayed
    markup, stats, notice, _, _ = tokenize(client, "The quick brown fox", ["gpt2", "trained"])
    assert [row[0] for row in stats["data"]] == ["GPT-2 BPE", "Your BPE"]
    assert notice == ""
    assert "merges" in client.predict(" function", "trained", api_name="/replay_bpe")


def test_tokens_per_language_chart(client: Client):
    figure = client.predict(api_name="/tokens_per_language")
    assert figure["type"] == "plotly"
    assert "Chinese" in figure["plot"] and "o200k_base" in figure["plot"]


# ---- bad input: a clear message, never a stack trace, and the server keeps serving ----------


def test_no_tokenizer_selected_is_a_clear_error(client: Client):
    with pytest.raises(AppError, match="Pick at least one tokenizer"):
        tokenize(client, "text", [])


def test_empty_text_gets_a_notice(client: Client):
    markup, stats, notice, _, _ = tokenize(client, "", ["gpt2"])
    assert "empty" in notice
    assert stats["data"][0][1] == 0


def test_huge_text_is_counted_and_the_view_truncated(client: Client):
    markup, stats, notice, _, _ = tokenize(client, "lorem ipsum dolor sit amet " * 4000, ["gpt2", "o200k_base"])
    assert stats["data"][0][1] > 10_000  # every token counted...
    assert "Only the first 3,000 characters are drawn" in markup  # ...but only the start drawn
    assert markup.count('class="tok ') < 2 * 1_000


def call_raw(app_url: str, api_name: str, data: list) -> list:
    """Call an endpoint over Gradio's plain HTTP API with ASCII-escaped JSON.

    gradio_client cannot even send a lone surrogate (it encodes its JSON as UTF-8 first), but a
    browser or curl can, so the server must cope with one.
    """
    body = json.dumps({"data": data}, ensure_ascii=True).encode("ascii")
    request = urllib.request.Request(f"{app_url}gradio_api/call/{api_name}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{app_url}gradio_api/call/{api_name}/{event_id}", timeout=60) as response:
        lines = response.read().decode("utf-8").splitlines()
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert events[-1] == "complete", lines
    return json.loads(lines[-1].removeprefix("data: ") if lines[-1] else lines[-2].removeprefix("data: "))


def test_lone_surrogates_and_control_characters(app_url: str):
    markup, stats, notice, _, _ = call_raw(
        app_url, "tokenize", ["bad \ud800 surrogate \x00\x07\x1b end", ["gpt2", "bert"], EMBEDDED, True]
    )
    assert "lone surrogate" in notice
    assert "␀" in markup  # NUL drawn as its Unicode control picture
    assert stats["data"][0][1] > 0


def test_more_than_four_tokenizers_are_cut_with_a_notice(client: Client):
    markup, stats, notice, _, _ = tokenize(client, "hi", ["gpt2", "cl100k_base", "o200k_base", "bert", "clip"])
    assert len(stats["data"]) == 4 and "At most 4" in notice


def test_hub_tokenizer_offline_says_so_plainly(client: Client):
    keys, notice = client.predict("no-such-owner/no-such-tokenizer", ["gpt2"], api_name="/add_hub_tokenizer")
    assert "not reachable" in notice
    keys, notice = client.predict("not an id", ["gpt2"], api_name="/add_hub_tokenizer")
    assert "is not a Hub id" in notice


def test_replay_rejects_non_bpe_and_empty_input(client: Client):
    with pytest.raises(AppError, match="not in the list of choices"):  # only byte-level BPEs are offered
        client.predict("hello", "bert", api_name="/replay_bpe")
    with pytest.raises(AppError, match="Type a word"):
        client.predict("   ", "gpt2", api_name="/replay_bpe")


def test_train_rejects_bad_input(client: Client):
    with pytest.raises(AppError, match="empty"):
        client.predict("My own text (below)", "", 500, "x", ["gpt2"], api_name="/train_bpe")
    with pytest.raises(AppError, match="less than minimum value 257"):
        client.predict("My own text (below)", "some text", 10, "x", ["gpt2"], api_name="/train_bpe")


def test_server_still_serves_after_bad_input(client: Client):
    markup, stats, notice, _, _ = tokenize(client, "still alive", ["gpt2"])
    assert stats["data"][0][1] == 2
