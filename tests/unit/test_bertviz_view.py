"""BertViz views offline: an iframe of real MiniLM attention, local scripts only, bounded payload."""

from __future__ import annotations

import hashlib
import html
import json
import re

import pytest

from core import attention_models as am
from tabs import bertviz_view as bv

SHORT = "The cat sat on the mat."
LONG = "Attention lets every token of a sentence look at every other token, layer after layer. " * 12
SRCDOC = re.compile(r'<iframe [^>]*srcdoc="([^"]*)"[^>]*></iframe>')
VENDORED = {  # file: sha256 of npm d3@5.7.0 dist/d3.min.js and jquery@2.2.4 dist/jquery.min.js
    "d3.min.js": "bdad5585ef9a965ff25458738309b006058c55f2c78d794d25fbecae35014609",
    "jquery.min.js": "05b85d96f41fff14d8f608dad03ab71e2c1017c2da0914d7c59291bad7a54f8e",
}


@pytest.fixture(scope="module")
def short_run():
    return am.run("minilm", SHORT)


@pytest.fixture(scope="module")
def long_run():
    run = am.run("minilm", LONG, max_tokens=126)
    assert len(run.labels) == 126
    return run


def srcdoc(markup: str) -> str:
    """The document inside the view's single iframe, unescaped as the browser reads it."""
    frames = SRCDOC.findall(markup)
    assert len(frames) == 1, markup[:300]
    return html.unescape(frames[0])


def params(document: str) -> dict:
    start = document.index("const params = ") + len("const params = ")
    return json.JSONDecoder().raw_decode(document, start)[0]


def assert_offline(document: str) -> None:
    for url in bv.vendor_urls():
        assert f'<script src="{url}"></script>' in document
    assert "cdnjs" not in document and "cdn." not in document
    assert "require.min.js" not in document and "require.config({" not in document
    script_sources = re.findall(r"<script[^>]*\ssrc=\"([^\"]*)\"", document)
    assert script_sources == bv.vendor_urls()  # no other script, nothing from http(s)://
    assert not re.search(r"src=[\"']?(https?:)?//", document)


@pytest.mark.parametrize("view", [bv.head_view, bv.model_view])
def test_short_views_are_offline_iframes_with_the_real_tokens(short_run, view):
    result = view(short_run)
    assert result.html.startswith("<iframe") and result.html.endswith("</iframe>")
    assert 'sandbox="allow-scripts"' in result.html and "width:100%" in result.html
    document = srcdoc(result.html)
    assert document.startswith("<!DOCTYPE html>")
    assert_offline(document)
    data = params(document)["attention"][0]
    assert data["left_text"] == short_run.labels == ["[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"]
    for label in short_run.labels:
        assert json.dumps(label) in document
    # all the weights are there: every layer and head, rounded to DECIMALS
    T = len(short_run.labels)
    assert len(data["attn"]) == 6 and len(data["attn"][0]) == 12 and len(data["attn"][0][0]) == T
    first_row = data["attn"][0][0][0]
    exact = short_run.attentions[0, 0, 0].tolist()
    assert first_row == pytest.approx(exact, abs=0.5 * 10**-bv.DECIMALS + 1e-9)
    assert all(round(w, bv.DECIMALS) == w for w in first_row)
    assert abs(sum(first_row) - 1) < T * 0.5 * 10**-bv.DECIMALS
    assert result.notice is None and result.n_tokens == T and result.layers == list(range(6))
    assert result.payload_bytes == len(result.html.encode()) < 100_000


def test_head_view_starts_at_the_chosen_layer(short_run):
    document = srcdoc(bv.head_view_html(short_run, layer=3))
    assert params(document)["layer"] == 3
    with pytest.raises(ValueError, match="layers 0 to 5"):
        bv.head_view(short_run, layer=6)


def test_long_input_views_stay_under_the_bound_and_say_what_they_cut(long_run):
    model = bv.model_view(long_run)
    assert model.payload_bytes <= bv.PAYLOAD_LIMIT_BYTES
    assert 30 <= model.n_tokens < 126 and model.layers == list(range(6))
    assert model.html.startswith('<p class="bertviz-notice">')
    assert f"first {model.n_tokens} of 126 tokens" in model.html
    data = params(srcdoc(model.html))["attention"][0]
    assert data["left_text"] == long_run.labels[: model.n_tokens]
    assert len(data["attn"][5][11]) == model.n_tokens
    assert_offline(srcdoc(model.html))

    head = bv.head_view(long_run, layer=4)
    assert head.payload_bytes <= bv.PAYLOAD_LIMIT_BYTES
    assert head.n_tokens == 126 and 4 in head.layers  # all tokens, the chosen layer
    assert ("layer" in (head.notice or "")) == (head.layers != list(range(6)))
    assert params(srcdoc(head.html))["include_layers"] == head.layers
    assert_offline(srcdoc(head.html))


def test_a_label_cannot_close_the_script(short_run):
    from dataclasses import replace

    evil = replace(short_run, labels=["</script><script>alert(1)</script>", *short_run.labels[1:]])
    document = srcdoc(bv.head_view_html(evil))
    assert "</script><script>alert" not in document
    assert params(document)["attention"][0]["left_text"][0] == evil.labels[0]


def test_static_paths_serve_the_vendored_scripts():
    (folder,) = bv.static_paths()
    assert folder.is_dir() and folder.is_absolute()
    for url, name in zip(bv.vendor_urls(), bv.VENDOR_SCRIPTS, strict=True):
        assert url == f"gradio_api/file={folder.as_posix()}/{name}"
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == VENDORED[name]
    assert (folder / "d3.LICENSE").is_file() and (folder / "jquery.LICENSE.txt").is_file()


def test_the_bound_is_a_parameter_and_too_small_a_bound_is_an_error(short_run):
    model = bv.model_view(short_run, max_bytes=30_000)
    assert model.payload_bytes <= 30_000 and model.n_tokens < 9
    assert "under 0.03 MB" in model.notice
    head = bv.head_view(short_run, layer=2, max_bytes=30_000)
    assert head.payload_bytes <= 30_000 and head.n_tokens == 9 and 2 in head.layers and len(head.layers) < 6
    with pytest.raises(ValueError, match="cannot fit"):
        bv.head_view(short_run, max_bytes=10_000)


def test_the_size_estimate_is_the_json_size(long_run):
    weights = bv._rounded(long_run)[2]  # (H, T, T)
    assert int(bv._json_bytes(weights).sum()) == sum(
        len(json.dumps(head.tolist(), separators=(",", ":"))) for head in weights
    )
