"""core/bpe.py: the merge replay against the libraries' own encoders, and BPE training.

Reference: for every byte-level BPE, the replay must end in exactly the ids the library gives.
Property: each step merges the lowest-ranked adjacent pair available (leftmost on ties), checked
against merge tables read independently of core/bpe.py (tiktoken's public `encode_single_token`,
the merges list of the HF tokenizer's own JSON). Ranks along a replay need not increase.
"""

from __future__ import annotations

import itertools
import json

import pytest

from core import bpe, tokenizers
from core.tokenizer_samples import SAMPLES, python_docs_corpus

REPLAYABLE = ["gpt2", "cl100k_base", "o200k_base", "clip", "trained"]

WORDS = [
    " tokenization",
    "tokenization",
    "Hello",
    " Hello world",
    " 12345",
    "2024-01-01",
    "3.14159",
    "café",
    " naïve",
    "Ünïcödé",
    " Straße",
    "日本語",
    "分词器",
    " トークン",
    "🚀",
    "👩‍💻",
    "🇩🇪",
    "👍🏽",
    " don't",
    "IT'S",
    "    indented",
    "a\tb",
    "x = y + 1;",
    "antidisestablishmentarianism",
    "!!!???",
    " Здравствуй",
    "مرحبا",
    " Donaudampfschifffahrt",
    "aaaaaaaa",
    "--------",
    "e\u0301",
    "ÿ",
    "A",
    "x" * bpe.MAX_REPLAY_CHARS,
]


@pytest.fixture(scope="module")
def corpus() -> str:
    return python_docs_corpus()


@pytest.fixture(scope="module")
def trained(corpus) -> bpe.TrainedBPE:
    return bpe.train_bpe(corpus, 1000)


@pytest.fixture(scope="module")
def toks(trained) -> dict[str, tokenizers.TextTokenizer]:
    out = {key: tokenizers.get_tokenizer(key)[0] for key in ["gpt2", "cl100k_base", "o200k_base", "clip", "bert"]}
    out["sentencepiece"] = tokenizers.get_tokenizer("sentencepiece")[0]
    out["trained"] = bpe.trained_tokenizer(trained.tokenizer_json)
    return out


# ---- independent merge tables ---------------------------------------------------------------


def _tiktoken_rules(tok: tokenizers.TiktokenTokenizer):
    encoding = tok.encoding

    def rank_of(a: bytes, b: bytes) -> int | None:
        try:
            return encoding.encode_single_token(a + b)  # tiktoken: a merge's rank is its token id
        except KeyError:
            return None

    def initial(rep: bpe.PretokenReplay) -> list[bytes]:
        return [bytes([byte]) for byte in rep.pretoken.encode("utf-8")]

    def show(symbol: bytes) -> str:
        return symbol.decode("utf-8", "backslashreplace")

    return rank_of, initial, show, encoding.encode_single_token


def _hf_rules(tok: tokenizers.HFTokenizer):
    model = json.loads(tok.tokenizer.backend_tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    suffix = model.get("end_of_word_suffix") or ""

    def initial(rep: bpe.PretokenReplay) -> list[str]:
        symbols = list(rep.pretoken)
        symbols[-1] += suffix
        return symbols

    return (lambda a, b: ranks.get((a, b))), initial, str, model["vocab"].__getitem__


def _rules(tok):
    return _tiktoken_rules(tok) if isinstance(tok, tokenizers.TiktokenTokenizer) else _hf_rules(tok)


def _check_replay(rep: bpe.PretokenReplay, rules) -> None:
    """Re-run the BPE loop beside the replay and check every step it reports."""
    rank_of, initial, show, id_of = rules
    symbols = initial(rep)
    assert rep.start == tuple(show(s) for s in symbols)
    for step in rep.steps:
        assert step.parts == tuple(show(s) for s in symbols)
        ranks = [rank_of(symbols[i], symbols[i + 1]) for i in range(len(symbols) - 1)]
        available = [(rank, i) for i, rank in enumerate(ranks) if rank is not None]
        assert available, f"{rep.pretoken!r}: a step was reported with nothing to merge"
        best = min(rank for rank, _ in available)
        assert step.rank == best == ranks[step.index], f"{rep.pretoken!r}: {step} is not the lowest-ranked pair"
        assert step.index == min(i for rank, i in available if rank == best), "ties go to the leftmost pair"
        merged = symbols[step.index] + symbols[step.index + 1]
        if isinstance(merged, str):  # (tiktoken shows half characters as escapes; compare strings only)
            assert step.merged == merged
        symbols = [*symbols[: step.index], merged, *symbols[step.index + 2 :]]
    assert all(rank_of(a, b) is None for a, b in itertools.pairwise(symbols)), "stopped too early"
    assert rep.final == tuple(show(s) for s in symbols)
    assert rep.ids == tuple(id_of(s) for s in symbols)


# ---- reference and property tests of the replay ---------------------------------------------


@pytest.mark.parametrize("key", REPLAYABLE)
def test_replay_ends_in_the_library_ids(toks, key):
    tok = toks[key]
    assert bpe.can_replay(tok)
    mismatches = []
    for word in WORDS:
        replayed = [i for rep in bpe.replay(tok, word) for i in rep.ids]
        expected = [t.id for t in tok.encode(word)]
        if replayed != expected:
            mismatches.append((word, replayed, expected))
    assert mismatches == []


@pytest.mark.parametrize("key", REPLAYABLE)
def test_every_step_merges_the_lowest_ranked_pair(toks, key):
    tok = toks[key]
    rules = _rules(tok)
    n_steps = 0
    for word in WORDS:
        for rep in bpe.replay(tok, word):
            _check_replay(rep, rules)
            n_steps += len(rep.steps)
    assert n_steps > 50  # the words really exercise the loop


@pytest.mark.parametrize("key", ["gpt2", "cl100k_base", "o200k_base"])
def test_byte_level_pretokens_cover_the_word(toks, key):
    for word in WORDS:
        reps = bpe.replay(toks[key], word)
        if key == "gpt2":  # HF shows bytes as GPT-2's printable stand-ins
            from core.tokenizer_files import bytes_to_unicode

            byte_of = {char: byte for byte, char in bytes_to_unicode().items()}
            joined = bytes(byte_of[c] for rep in reps for c in rep.pretoken)
        else:
            joined = "".join(rep.pretoken for rep in reps).encode("utf-8")
        assert joined == word.encode("utf-8")


def test_gpt2_first_merge_known_answer(toks):
    (rep,) = bpe.replay(toks["gpt2"], " t")
    assert rep.start == ("Ġ", "t")
    assert [(s.parts, s.index, s.rank, s.merged) for s in rep.steps] == [(("Ġ", "t"), 0, 0, "Ġt")]
    assert rep.final == ("Ġt",)
    assert rep.ids == (256,)


def test_gpt2_hello_known_answer(toks):
    (rep,) = bpe.replay(toks["gpt2"], "hello")
    assert rep.final == ("hello",)
    assert rep.ids == (31373,)
    assert [s.merged for s in rep.steps][-1] == "hello"


@pytest.mark.parametrize("key", REPLAYABLE)
def test_ranks_never_decrease_but_may_repeat(toks, key):
    """A merge that uses a token is learned after that token, so ranks never go down; a pair that
    occurs twice merges twice with the same rank, so they need not strictly increase."""
    for word in WORDS:
        for rep in bpe.replay(toks[key], word):
            ranks = [s.rank for s in rep.steps]
            assert ranks == sorted(ranks), (word, ranks)
    (rep,) = bpe.replay(toks[key], "--------")
    ranks = [s.rank for s in rep.steps]
    assert len(set(ranks)) < len(ranks)


def test_clip_marks_the_end_of_a_word(toks):
    (rep,) = bpe.replay(toks["clip"], "hello")
    assert rep.start[-1] == "o</w>"
    assert rep.final == ("hello</w>",)


@pytest.mark.parametrize("key", ["gpt2", "clip"])
def test_replay_of_special_token_text_matches_the_tokenizer(toks, key):
    word = "<|endoftext|>"
    replayed = [i for rep in bpe.replay(toks[key], word) for i in rep.ids]
    assert replayed == [t.id for t in toks[key].encode(word)]


@pytest.mark.parametrize("word", ["", " ", "   ", "\n", "\n\n", "\t \n"])
def test_replay_rejects_empty_input(toks, word):
    with pytest.raises(ValueError, match="Type a word"):
        bpe.replay(toks["gpt2"], word)


def test_replay_rejects_long_input(toks):
    with pytest.raises(ValueError, match=f"at most {bpe.MAX_REPLAY_CHARS} characters"):
        bpe.replay(toks["cl100k_base"], "x" * (bpe.MAX_REPLAY_CHARS + 1))
    bpe.replay(toks["cl100k_base"], "x" * bpe.MAX_REPLAY_CHARS)  # the limit itself is fine


@pytest.mark.parametrize("key", ["bert", "sentencepiece"])
def test_replay_rejects_tokenizers_that_are_not_byte_level_bpe(toks, key):
    assert not bpe.can_replay(toks[key])
    with pytest.raises(ValueError, match="not a byte-level BPE"):
        bpe.replay(toks[key], "hello")


# ---- training -------------------------------------------------------------------------------


@pytest.mark.parametrize("vocab_size", [bpe.MIN_VOCAB, 1000, 5000])
def test_vocab_size_is_honoured_on_a_big_corpus(corpus, vocab_size):
    result = bpe.train_bpe(corpus, vocab_size)
    assert result.vocab_size == vocab_size
    assert len(result.merges) == vocab_size - 256
    assert result.corpus_chars == len(corpus)
    assert result.seconds >= 0
    assert json.loads(result.tokenizer_json)["model"]["type"] == "BPE"


def test_small_corpus_gives_a_smaller_vocabulary():
    result = bpe.train_bpe("hello hello world", 300)
    assert 256 < result.vocab_size < 300
    assert len(result.merges) == result.vocab_size - 256


def test_min_frequency_is_honoured():
    corpus = "abc " * 3 + "xyz"
    assert ("x", "y") not in bpe.train_bpe(corpus, 300, min_frequency=2).merges
    assert ("x", "y") in bpe.train_bpe(corpus, 300, min_frequency=1).merges


def test_merges_are_built_from_bytes_and_earlier_merges(trained):
    from core.tokenizer_files import bytes_to_unicode

    known = set(bytes_to_unicode().values())
    assert len(known) == 256
    for a, b in trained.merges:
        assert a in known and b in known, (a, b)
        known.add(a + b)
    assert len(known) == trained.vocab_size


@pytest.mark.parametrize("vocab_size", [-1, 0, 255, 256, bpe.MAX_VOCAB + 1, 10**9])
def test_out_of_range_vocab_size_raises(vocab_size):
    with pytest.raises(ValueError, match="Vocabulary size must be between"):
        bpe.train_bpe("some text to train on", vocab_size)


@pytest.mark.parametrize("corpus", ["", "   ", "\n\t\n", None])
def test_empty_corpus_raises(corpus):
    with pytest.raises(ValueError, match="training text is empty"):
        bpe.train_bpe(corpus, 300)


ROUND_TRIP = [
    *SAMPLES.values(),
    "\x00\x07\x1b control",
    "tabs\tand\r\nnewlines\n\n",
    "  leading and trailing  ",
    "😀 🧬 \U0010ffff \ufffd",
    "ÿþ Ω ∑ 𝔘",
]


def test_trained_tokenizer_round_trips_and_knows_every_byte(toks, trained):
    tok = toks["trained"]
    assert isinstance(tok, tokenizers.HFTokenizer)
    assert tok.byte_level_bpe
    assert tok.vocab_size() == trained.vocab_size
    for text in ROUND_TRIP:
        tokens = tok.encode(text)
        assert tok.tokenizer.decode([t.id for t in tokens]) == text
        assert b"".join(t.raw for t in tokens) == text.encode("utf-8")
        assert all(t.kind != "unknown" for t in tokens)
    every_byte = bytes(range(256)).decode("latin-1")
    assert tok.tokenizer.decode([t.id for t in tok.encode(every_byte)]) == every_byte


def test_trained_tokenizer_compresses_its_own_corpus(toks, corpus):
    sample = corpus[:20_000]
    n_tokens = len(toks["trained"].encode(sample))
    assert n_tokens < 0.6 * len(sample.encode("utf-8"))  # 1000 merges beat raw bytes by far
