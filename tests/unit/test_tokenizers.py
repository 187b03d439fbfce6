"""core/tokenizers.py: our wrappers against the libraries, and properties every tokenizer keeps.

Reference tests compare the ids we show with an independent library call (tiktoken for GPT-2,
cl100k and o200k; sentencepiece and `tokenizers`' own WordPiece built straight from the embedded
files). Property tests check what the UI relies on: spans inside the text, in order, and byte
pieces that add up to the input.
"""

from __future__ import annotations

import pytest

from core import assets, tokenizers
from core.tokenizer_samples import SAMPLES, python_docs_corpus
from core.tokenizers import MAX_INPUT_CHARS, clean_text, comparable_span, differing_tokens

KEYS = ["gpt2", "cl100k_base", "o200k_base", "bert", "sentencepiece", "clip"]
BYTE_LEVEL = ["gpt2", "cl100k_base", "o200k_base"]
CORPUS = [*SAMPLES.values()]


@pytest.fixture(scope="module")
def toks() -> dict[str, tokenizers.TextTokenizer]:
    out = {}
    for key in KEYS:
        tok, notice = tokenizers.get_tokenizer(key)
        assert notice is None
        out[key] = tok
    return out


@pytest.fixture(scope="module")
def docs() -> str:
    return python_docs_corpus()[:50_000]


@pytest.fixture(scope="module")
def tiktoken_ref():
    """tiktoken's own encodings, read from the embedded files placed in its offline cache."""
    import tiktoken

    from core.tokenizer_files import tiktoken_cache_dir

    tiktoken_cache_dir()  # tiktoken checks these files against its own published hashes
    return tiktoken.get_encoding


def _ids(tok, text):
    return [t.id for t in tok.encode(text)]


def test_embedded_keys_are_the_registered_tokenizers():
    assert sorted(tokenizers.embedded_keys()) == sorted(KEYS)


# ---- reference tests ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLES))
def test_gpt2_matches_tiktoken_on_samples(toks, tiktoken_ref, name):
    text = SAMPLES[name]
    assert _ids(toks["gpt2"], text) == tiktoken_ref("gpt2").encode_ordinary(text)


def test_gpt2_matches_tiktoken_on_python_docs(toks, tiktoken_ref, docs):
    ours = _ids(toks["gpt2"], docs)
    ref = tiktoken_ref("gpt2").encode_ordinary(docs)
    assert len(ours) == len(ref)
    assert ours == ref


def test_gpt2_known_answer(toks):
    assert _ids(toks["gpt2"], "Hello world") == [15496, 995]


def test_gpt2_treats_special_token_text_as_plain_text_like_tiktoken(toks, tiktoken_ref):
    text = "Documents are separated by <|endoftext|> in GPT-2's training data."
    tokens = toks["gpt2"].encode(text)
    assert [t.id for t in tokens] == tiktoken_ref("gpt2").encode_ordinary(text)
    assert all(t.kind == "normal" for t in tokens)


@pytest.mark.parametrize("key", ["cl100k_base", "o200k_base"])
def test_tiktoken_encodings_match_tiktoken(toks, tiktoken_ref, docs, key):
    ref = tiktoken_ref(key)
    for text in [*CORPUS, docs, "<|endoftext|> is plain text here"]:
        assert _ids(toks[key], text) == ref.encode_ordinary(text)
        assert _ids(toks[key], text) == ref.encode(text, disallowed_special=())


def test_sentencepiece_matches_sentencepiece(toks, docs):
    import sentencepiece

    model = assets.ASSETS_DIR / "tokenizers" / "mistral-7b-v0.1.sentencepiece.model"
    ref = sentencepiece.SentencePieceProcessor(model_file=str(model))
    for text in [*CORPUS, docs[:10_000]]:
        assert _ids(toks["sentencepiece"], text) == ref.encode(text)


def test_bert_matches_the_hf_tokenizer(toks, docs):
    bert = toks["bert"]
    for text in [*CORPUS, docs[:10_000]]:
        assert _ids(bert, text) == bert.tokenizer.encode(text, add_special_tokens=False)


def test_bert_matches_a_wordpiece_built_from_the_vocab_file(toks):
    from tokenizers import BertWordPieceTokenizer

    (vocab,) = assets.get("bert").files
    ref = BertWordPieceTokenizer(str(vocab.path()), lowercase=True)
    for text in CORPUS:
        assert _ids(toks["bert"], text) == ref.encode(text, add_special_tokens=False).ids


def test_clip_known_answer(toks):
    clip = toks["clip"]
    assert clip.tokenizer("a photo of a cat")["input_ids"] == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert _ids(clip, "a photo of a cat") == [320, 1125, 539, 320, 2368]
    assert [t.piece for t in clip.encode("a photo of a cat")][-1] == "cat</w>"


def test_vocab_sizes(toks):
    assert toks["gpt2"].vocab_size() == 50257
    assert toks["cl100k_base"].vocab_size() == 100277
    assert toks["o200k_base"].vocab_size() == 200019
    assert toks["bert"].vocab_size() == 30522
    assert toks["sentencepiece"].vocab_size() == 32000
    assert toks["clip"].vocab_size() == 49408


def test_byte_level_flags(toks):
    assert {k for k, t in toks.items() if t.byte_level_bpe} == {"gpt2", "cl100k_base", "o200k_base", "clip"}


# ---- properties -----------------------------------------------------------------------------


def _check_spans(text, tokens):
    for token in tokens:
        assert 0 <= token.start <= token.end <= len(text), token
    starts = [t.start for t in tokens]
    assert starts == sorted(starts)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("name", list(SAMPLES))
def test_spans_are_inside_the_text_and_in_order(toks, key, name):
    text = SAMPLES[name]
    tokens = toks[key].encode(text)
    assert tokens
    _check_spans(text, tokens)


@pytest.mark.parametrize("key", BYTE_LEVEL)
@pytest.mark.parametrize("name", list(SAMPLES))
def test_byte_level_raw_bytes_concatenate_to_the_text(toks, key, name):
    text = SAMPLES[name]
    tokens = toks[key].encode(text)
    assert b"".join(t.raw for t in tokens) == text.encode("utf-8")
    for token in tokens:  # a whole-character token's span holds exactly its bytes
        if token.kind == "normal":
            assert text[token.start : token.end].encode("utf-8") == token.raw


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sentencepiece_raw_bytes(toks, name):
    text = SAMPLES[name]
    tokens = toks["sentencepiece"].encode(text)
    for token in tokens:
        if token.kind == "byte_fallback":
            assert len(token.raw) == 1
            assert token.piece == f"<0x{token.raw[0]:02X}>"
    joined = b"".join(t.raw for t in tokens)
    assert joined in (text.encode("utf-8"), b" " + text.encode("utf-8"))  # '▁' dummy prefix


def test_sentencepiece_byte_fallback_tokens_share_their_characters_span(toks):
    text = "a\U0001f9ecb"  # 🧬 is not in Mistral's vocabulary: four byte tokens
    tokens = toks["sentencepiece"].encode(text)
    fallback = [t for t in tokens if t.kind == "byte_fallback"]
    assert b"".join(t.raw for t in fallback) == "\U0001f9ec".encode()
    assert {(t.start, t.end) for t in fallback} == {(1, 2)}


def test_bert_raw_is_the_input_slice(toks):
    for text in CORPUS:
        for token in toks["bert"].encode(text):
            assert token.raw == text[token.start : token.end].encode("utf-8")


def test_bert_unknown_characters_are_marked(toks):
    tokens = toks["bert"].encode("I ❤ 🦜")
    assert [t.kind for t in tokens].count("unknown") >= 1
    assert tokens[0].kind == "normal"


def test_gpt2_emoji_split_across_tokens_is_partial(toks):
    tokens = toks["gpt2"].encode("🚀")
    assert len(tokens) > 1
    assert all(t.kind == "partial" for t in tokens)
    assert all((t.start, t.end) == (0, 1) for t in tokens)
    assert b"".join(t.raw for t in tokens) == "🚀".encode()


def test_gpt2_partial_only_where_a_character_is_split(toks):
    text = "Launch day 🚀!"
    tokens = toks["gpt2"].encode(text)
    partial = [t for t in tokens if t.kind == "partial"]
    assert len(partial) == 3  # ' \xf0\x9f', '\x9a', '\x80'
    assert all(text[t.start : t.end].endswith("🚀") for t in partial)
    assert [text[t.start : t.end] for t in partial[1:]] == ["🚀", "🚀"]
    assert [t.kind for t in tokens if t.end <= text.index("🚀")] == ["normal", "normal"]


def test_ascii_text_has_no_partial_tokens(toks):
    for key in KEYS:
        assert {t.kind for t in toks[key].encode("Plain ASCII words, 42 of them.")} == {"normal"}, key


# ---- statistics -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_stats(toks, key):
    text = SAMPLES["German"]
    enc = toks[key].run(text)
    assert enc.n_tokens == len(enc.tokens) > 0
    assert enc.n_chars == len(text)
    assert enc.n_bytes == len(text.encode("utf-8"))
    assert enc.chars_per_token == pytest.approx(enc.n_chars / enc.n_tokens)
    assert enc.bytes_per_token == pytest.approx(enc.n_bytes / enc.n_tokens)
    assert enc.n_byte_fallback == sum(t.kind == "byte_fallback" for t in enc.tokens)
    assert enc.title == tokenizers.title_of(key)


def test_stats_of_empty_text(toks):
    enc = toks["gpt2"].run("")
    assert (enc.n_tokens, enc.chars_per_token, enc.bytes_per_token) == (0, 0.0, 0.0)


def test_tokens_per_100_chars(toks):
    table = tokenizers.tokens_per_100_chars([toks["gpt2"], toks["o200k_base"]], {"German": SAMPLES["German"]})
    german = SAMPLES["German"]
    assert table[toks["gpt2"].title]["German"] == pytest.approx(100 * len(toks["gpt2"].encode(german)) / len(german))
    assert table[toks["o200k_base"].title]["German"] < table[toks["gpt2"].title]["German"]


# ---- clean_text and hostile input -----------------------------------------------------------


def test_clean_text_passes_ordinary_text_through():
    assert clean_text("Grüße, 世界 🚀") == ("Grüße, 世界 🚀", [])


@pytest.mark.parametrize("value", [None, ""])
def test_clean_text_of_nothing(value):
    assert clean_text(value) == ("", [])


def test_clean_text_replaces_lone_surrogates():
    text, notices = clean_text("a\ud800b\udfffc")
    assert text == "a\ufffdb\ufffdc"
    assert len(notices) == 1
    assert "2 lone surrogate" in notices[0]
    assert "U+FFFD" in notices[0]
    text.encode("utf-8")  # now encodable


def test_clean_text_cuts_long_text():
    text, notices = clean_text("x" * (MAX_INPUT_CHARS + 5))
    assert len(text) == MAX_INPUT_CHARS
    assert len(notices) == 1
    assert f"{MAX_INPUT_CHARS:,}" in notices[0]


def test_clean_text_at_the_limit_is_untouched():
    assert clean_text("y" * MAX_INPUT_CHARS) == ("y" * MAX_INPUT_CHARS, [])


def test_clean_text_cuts_then_replaces():
    text, notices = clean_text("z" * MAX_INPUT_CHARS + "\ud800")
    assert text == "z" * MAX_INPUT_CHARS
    assert len(notices) == 1  # the surrogate was beyond the cut


def _hundred_thousand_chars() -> str:
    text = SAMPLES["English prose"] + " 3.14159 " + SAMPLES["German"] + " 🚀 "
    return (text * (100_000 // len(text) + 1))[:100_000]


EDGE_INPUTS = {
    "100k-chars": _hundred_thousand_chars(),
    "control": "\x00\x07\x1b",
    "empty": "",
    "cleaned-surrogate": clean_text("x\ud83dy")[0],
    "whitespace": "  \t\n\r\n  ",
    "combining": "e\u0301 n\u0303 \u200b\u200d",
}


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("name", list(EDGE_INPUTS))
def test_hostile_input_encodes(toks, key, name):
    text = EDGE_INPUTS[name]
    tokens = toks[key].encode(text)
    _check_spans(text, tokens)
    if not text:
        assert tokens == []
    if key in BYTE_LEVEL:
        assert b"".join(t.raw for t in tokens) == text.encode("utf-8")
    if name == "100k-chars":
        assert len(tokens) > 10_000
        assert tokens[-1].end >= len(text) - 2


# ---- comparing tokenizers -------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_identical_tokenizers_differ_nowhere(toks, key):
    text = SAMPLES["Numbers"]
    encodings = [toks[key].run(text), toks[key].run(text)]
    assert differing_tokens(encodings) == [set(), set()]


def test_gpt2_and_bert_agree_on_hello_world(toks):
    text = "Hello world"
    gpt2, bert = toks["gpt2"].run(text), toks["bert"].run(text)
    assert [(t.start, t.end) for t in gpt2.tokens] == [(0, 5), (5, 11)]  # ' world' holds the space
    assert [(t.start, t.end) for t in bert.tokens] == [(0, 5), (6, 11)]
    assert comparable_span(text, gpt2.tokens[1]) == (6, 11)
    assert differing_tokens([gpt2, bert]) == [set(), set()]


def test_differing_tokens_finds_different_splits(toks):
    text = "Hello antidisestablishmentarianism"
    gpt2, bert = toks["gpt2"].run(text), toks["bert"].run(text)
    differ = differing_tokens([gpt2, bert])
    assert 0 not in differ[0] and 0 not in differ[1]  # 'Hello' is one token in both
    assert differ[0] and differ[1]
    gpt2_spans = {comparable_span(text, t) for t in gpt2.tokens}
    for i, token in enumerate(bert.tokens):
        assert (i in differ[1]) == (comparable_span(text, token) not in gpt2_spans)


def test_comparable_span_of_a_whitespace_token_is_empty():
    token = tokenizers.Token(220, "Ġ", b" ", 3, 4)
    start, end = comparable_span("abc def", token)
    assert start == end


def test_title_of_hub_keys():
    assert tokenizers.title_of("hub:owner/name") == "owner/name (Hub)"
    assert tokenizers.title_of("gpt2") == assets.get("gpt2").title


def test_hub_tokenizer_offline_raises(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(assets.HubUnavailable):
        tokenizers.get_tokenizer("hub:openai-community/gpt2")


def test_prefer_hub_offline_gives_the_embedded_tokenizer_and_a_notice(monkeypatch, toks):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok, notice = tokenizers.get_tokenizer("gpt2", prefer_hub=True)
    assert notice and "embedded" in notice
    assert "(Hub)" not in tok.title
    assert _ids(tok, "Hello world") == [15496, 995]
