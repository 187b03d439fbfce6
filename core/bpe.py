"""Byte-pair encoding, opened up: replay the merges that built a word's tokens, and train a BPE.

BPE (Sennrich et al. 2016, https://arxiv.org/abs/1508.07909; byte-level in GPT-2, Radford et
al. 2019) starts from single bytes and repeatedly merges the adjacent pair that was merged
earliest during training (lowest rank) until no learned merge applies. The text is first cut
into pre-tokens by a regex (words, numbers, punctuation, whitespace runs), and merges never
cross a pre-token boundary.

`replay` reproduces that loop step by step for two kinds of byte-level BPE:
- tiktoken encodings: the rank of a merge is the rank of the merged byte string;
- Hugging Face BPE models (GPT-2, CLIP, BPEs trained here): the rank is the merge's line in
  merges.txt. CLIP marks the end of a word by appending '</w>' to its last symbol.
Tests check that the replay ends in exactly the tokens the library produces.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from core.tokenizers import HFTokenizer, TextTokenizer, TiktokenTokenizer

MAX_REPLAY_CHARS = 64  # a word, not a document: the step list grows quadratically


@dataclass(frozen=True)
class MergeStep:
    parts: tuple[str, ...]  # the symbols before this merge
    index: int  # parts[index] and parts[index + 1] merge
    rank: int  # when training learned this merge: smaller = earlier (tiktoken's ranks start at 256)

    @property
    def merged(self) -> str:
        return self.parts[self.index] + self.parts[self.index + 1]


@dataclass(frozen=True)
class PretokenReplay:
    pretoken: str  # the pre-token as the tokenizer sees it (after normalisation)
    start: tuple[str, ...]  # its symbols before any merge (bytes, or byte-level characters)
    steps: tuple[MergeStep, ...]
    final: tuple[str, ...]  # the tokens it ends as
    ids: tuple[int, ...]


def _merge_loop(symbols: list, rank_of) -> tuple[list[MergeStep], list]:
    """The BPE loop: merge the lowest-ranked adjacent pair (leftmost on ties) until none is left."""
    steps = []
    while len(symbols) > 1:
        # 1. rank every adjacent pair; pairs the training never merged have no rank
        ranked = [(rank_of(symbols[i], symbols[i + 1]), i) for i in range(len(symbols) - 1)]
        ranked = [(rank, i) for rank, i in ranked if rank is not None]
        if not ranked:
            break
        # 2. merge the earliest-learned pair
        rank, i = min(ranked)
        steps.append(MergeStep(tuple(_show(s) for s in symbols), i, rank))
        symbols = [*symbols[:i], symbols[i] + symbols[i + 1], *symbols[i + 2 :]]
    return steps, symbols


def _show(symbol) -> str:
    return symbol.decode("utf-8", "backslashreplace") if isinstance(symbol, bytes) else symbol


def _replay_tiktoken(tok: TiktokenTokenizer, word: str) -> list[PretokenReplay]:
    import regex

    encoding = tok.encoding
    ranks = encoding._mergeable_ranks  # bytes -> rank; tiktoken keeps no public accessor
    out = []
    for pretoken in regex.findall(encoding._pat_str, word):
        symbols = [bytes([b]) for b in pretoken.encode("utf-8")]

        def rank_of(a: bytes, b: bytes) -> int | None:
            return ranks.get(a + b)

        steps, final = _merge_loop(symbols, rank_of)
        out.append(
            PretokenReplay(
                pretoken,
                tuple(_show(s) for s in symbols),
                tuple(steps),
                tuple(_show(s) for s in final),
                tuple(ranks[s] for s in final),
            )
        )
    return out


def _hf_bpe_tables(tok: HFTokenizer) -> tuple[dict[tuple[str, str], int], dict[str, int], dict]:
    cached = getattr(tok, "_bpe_tables", None)
    if cached is None:
        model = json.loads(tok.tokenizer.backend_tokenizer.to_str())["model"]
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        cached = ({pair: rank for rank, pair in enumerate(merges)}, model["vocab"], model)
        tok._bpe_tables = cached  # one parse per tokenizer object (GPT-2 has 50k merges)
    return cached


def _replay_hf(tok: HFTokenizer, word: str) -> list[PretokenReplay]:
    ranks, vocab, model = _hf_bpe_tables(tok)
    backend = tok.tokenizer.backend_tokenizer
    normalized = backend.normalizer.normalize_str(word) if backend.normalizer else word
    suffix = model.get("end_of_word_suffix") or ""
    out = []
    for pretoken, _ in backend.pre_tokenizer.pre_tokenize_str(normalized):
        symbols = list(pretoken)
        if suffix:
            symbols[-1] += suffix
        if model.get("ignore_merges") and pretoken + suffix in vocab:
            steps, final = [], [pretoken + suffix]  # whole word is in the vocabulary: no merging
        else:
            steps, final = _merge_loop(symbols, lambda a, b: ranks.get((a, b)))
        out.append(PretokenReplay(pretoken, tuple(symbols), tuple(steps), tuple(final), tuple(vocab[s] for s in final)))
    return out


def can_replay(tok: TextTokenizer) -> bool:
    return isinstance(tok, TiktokenTokenizer) or (isinstance(tok, HFTokenizer) and tok.byte_level_bpe)


def replay(tok: TextTokenizer, word: str) -> list[PretokenReplay]:
    """Every merge step that turns `word` into `tok`'s tokens, one replay per pre-token."""
    word = word.strip("\n")
    if not word.strip():
        raise ValueError("Type a word to replay (for example ' tokenization').")
    if len(word) > MAX_REPLAY_CHARS:
        raise ValueError(f"Replay works on a word or short phrase: at most {MAX_REPLAY_CHARS} characters.")
    if isinstance(tok, TiktokenTokenizer):
        return _replay_tiktoken(tok, word)
    if can_replay(tok):
        return _replay_hf(tok, word)
    raise ValueError(f"{tok.title} is not a byte-level BPE, so there are no merges to replay.")


# ---------------------------------------------------------------------------------------------
# Training a byte-level BPE (HF `tokenizers`, the Rust trainer the real models use).

MIN_VOCAB = 256 + 1  # 256 byte symbols, plus at least one merge
MAX_VOCAB = 20_000


@dataclass(frozen=True)
class TrainedBPE:
    tokenizer_json: str  # the whole tokenizer, serialised: small, safe to keep in session state
    merges: list[tuple[str, str]]  # in the order they were learned
    vocab_size: int
    corpus_chars: int
    seconds: float


def train_bpe(corpus: str, vocab_size: int, min_frequency: int = 2) -> TrainedBPE:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if not corpus or not corpus.strip():
        raise ValueError("The training text is empty: paste some text or pick a built-in corpus.")
    if not MIN_VOCAB <= vocab_size <= MAX_VOCAB:
        raise ValueError(f"Vocabulary size must be between {MIN_VOCAB} and {MAX_VOCAB:,}.")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=int(vocab_size),
        min_frequency=int(min_frequency),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: nothing is ever unknown
        show_progress=False,
    )
    started = time.perf_counter()
    tokenizer.train_from_iterator([corpus], trainer)
    seconds = time.perf_counter() - started
    as_json = tokenizer.to_str()
    merges = [
        tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in json.loads(as_json)["model"]["merges"]
    ]
    return TrainedBPE(as_json, merges, tokenizer.get_vocab_size(), len(corpus), seconds)


def trained_tokenizer(tokenizer_json: str, title: str = "Your BPE") -> HFTokenizer:
    """Rebuild a trained BPE (from session state) behind the common tokenizer interface."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(tokenizer_json))
    return HFTokenizer("trained", title, fast)
