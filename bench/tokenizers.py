"""Tokenizer figures: server time of the comparison view, and raw tiktoken vs HF throughput."""

from __future__ import annotations

import time

from bench.common import time_ms
from core.tokenizer_samples import SAMPLES, python_docs_corpus
from core.tokenizers import embedded_keys, get_tokenizer

COMPARE_KEYS = ["gpt2", "cl100k_base", "o200k_base", "sentencepiece"]
BUDGET_MS = 100.0  # the bound for 2,000 characters and 4 tokenizers on the 2-core CPU


def _mixed_text(n_chars: int) -> str:
    """Prose, code and other scripts mixed, repeated to exactly n_chars characters."""
    text = "\n".join(SAMPLES.values())
    return (text * (n_chars // len(text) + 1))[:n_chars]


def _throughput(encode, text: str, repeats: int = 5) -> dict:
    encode(text)  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        n_tokens = len(encode(text))
    seconds = (time.perf_counter() - started) / repeats
    size = len(text.encode("utf-8"))
    return {"MB_per_s": round(size / seconds / 1e6, 2), "tokens_per_s": round(n_tokens / seconds), "tokens": n_tokens}


def run() -> dict:
    from tabs.tokenizers import SOURCES, compare  # the tab's real handler: tokenize + diff + render

    text = _mixed_text(2_000)
    for key in COMPARE_KEYS:  # load outside the timing: loading is a one-off per process
        get_tokenizer(key)
    server = time_ms(lambda: compare(text, COMPARE_KEYS, SOURCES[0], True, None), repeats=30)
    tokenize_only = time_ms(lambda: [get_tokenizer(k)[0].encode(text) for k in COMPARE_KEYS], repeats=30)

    # every embedded tokenizer on 100,000 mixed characters: wrapping the libraries must stay linear
    long_text = _mixed_text(100_000)
    encode_100k = {
        key: time_ms(lambda k=key: get_tokenizer(k)[0].encode(long_text), repeats=3, warmup=1)
        for key in embedded_keys()
    }

    corpus = python_docs_corpus()
    gpt2_hf = get_tokenizer("gpt2")[0].tokenizer
    import tiktoken

    gpt2_tiktoken = tiktoken.get_encoding("gpt2")  # its files were cached by get_tokenizer above
    tik = _throughput(gpt2_tiktoken.encode_ordinary, corpus)
    hf = _throughput(lambda t: gpt2_hf(t)["input_ids"], corpus)
    assert tik["tokens"] == hf["tokens"], "tiktoken and HF disagree on GPT-2: the reference test should catch this"
    return {
        "compare_2000_chars_4_tokenizers": {
            "tokenizers": COMPARE_KEYS,
            "server_time": server,
            "tokenize_only": tokenize_only,
            "budget_ms": BUDGET_MS,
            "within_budget": server["median_ms"] <= BUDGET_MS,
        },
        "encode_100k_mixed_chars": encode_100k,
        "gpt2_throughput_python_docs": {
            "text_bytes": len(corpus.encode("utf-8")),
            "tiktoken": tik,
            "hf_tokenizers": hf,
            "tiktoken_speedup": round(tik["MB_per_s"] / hf["MB_per_s"], 2),
        },
    }
