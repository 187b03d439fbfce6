"""The tiny GPT (core.gpt): shapes, causality, explicit vs fused attention, vocabulary, save/load."""

from __future__ import annotations

import json
import math

import pytest
import torch

from core.assets import ASSETS_DIR
from core.gpt import (
    GPT,
    UNK,
    GPTConfig,
    GPTVocab,
    induction_scores,
    load_gpt,
    previous_token_scores,
    rotary_angles,
    rotate,
    sample,
    save_gpt,
)

SHIPPED = ASSETS_DIR / "checkpoints" / "gpt-kjv.safetensors"
TEXT = "In the beginning God created the heaven and the earth.\nAnd God said, Let there be light: and there was light."


@pytest.fixture(scope="module")
def model() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=4, n_embd=32)).eval()


@pytest.fixture(scope="module")
def idx() -> torch.Tensor:
    return torch.randint(50, (3, 12), generator=torch.Generator().manual_seed(1))


def test_output_shapes(model, idx):
    out = model(idx, need_attention=True)
    assert out.logits.shape == (3, 12, 50)
    assert len(out.attentions) == len(out.queries) == len(out.keys) == len(out.values) == 2
    assert all(a.shape == (3, 4, 12, 12) for a in out.attentions)
    assert all(t.shape == (3, 4, 12, 8) for t in out.queries + out.keys + out.values)
    fast = model(idx)
    assert fast.logits.shape == (3, 12, 50) and fast.attentions is None and fast.queries is None


def test_attention_is_causal_and_rows_sum_to_one(model, idx):
    for att in model(idx, need_attention=True).attentions:
        above = torch.ones(12, 12, dtype=torch.bool).triu(diagonal=1)
        assert (att[..., above] == 0).all()  # exactly zero, not merely small
        torch.testing.assert_close(att.sum(-1), torch.ones(3, 4, 12), atol=1e-6, rtol=0)


def test_explicit_attention_matches_fused_sdpa(model, idx):
    explicit = model(idx, need_attention=True).logits
    fused = model(idx, need_attention=False).logits
    torch.testing.assert_close(explicit, fused, atol=1e-5, rtol=0)


def test_future_tokens_do_not_change_earlier_logits(model, idx):
    changed = idx.clone()
    changed[:, 8:] = (changed[:, 8:] + 7) % 50
    for need_attention in (False, True):
        a, b = model(idx, need_attention).logits, model(changed, need_attention).logits
        torch.testing.assert_close(a[:, :8], b[:, :8], atol=1e-6, rtol=0)
        assert not torch.allclose(a[:, 8:], b[:, 8:])


def test_too_long_input_is_refused(model):
    with pytest.raises(ValueError, match="context"):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_head_scores_on_constructed_attention():
    T, period = 8, 4
    prev = torch.zeros(1, 1, 2, T, T)  # (B, H, ...) of one layer: head 0 previous-token, head 1 induction
    prev[0, 0, 0, 0, 0] = 1
    for t in range(1, T):
        prev[0, 0, 0, t, t - 1] = 1
    for t in range(T):
        prev[0, 0, 1, t, t - period + 1 if t >= period else t] = 1  # first half: itself
    layer = (prev[0],)  # one layer, (B=1, H=2, T, T)
    torch.testing.assert_close(previous_token_scores(layer), torch.tensor([[1.0, 0.0]]))
    torch.testing.assert_close(induction_scores(layer, period), torch.tensor([[0.0, 1.0]]))


def test_sample_is_seeded_and_greedy_is_deterministic(model):
    prompt = torch.tensor([[1, 2, 3]])
    first, again = (list(sample(model, prompt, 16, 1.0, 10, torch.Generator().manual_seed(3))) for _ in range(2))
    assert first == again
    assert len(first) == 16 and all(0 <= t < 50 for t in first)  # 3 + 16 tokens: goes past block_size
    assert list(sample(model, prompt, 5, temperature=0)) == list(sample(model, prompt, 5, temperature=0))


@pytest.fixture(scope="module")
def vocab() -> GPTVocab:
    probe = GPTVocab([0])
    return GPTVocab.from_gpt2_ids(probe.gpt2_encode(TEXT))


def test_vocab_round_trip_on_corpus_text(vocab):
    ids = vocab.encode(TEXT)
    assert max(ids) < vocab.unk_id and vocab.decode(ids) == TEXT
    assert vocab.to_gpt2_ids(ids) == vocab.gpt2_encode(TEXT)
    assert len(vocab) == len(set(vocab.gpt2_encode(TEXT))) + 1


def test_vocab_maps_unseen_tokens_to_unk(vocab):
    ids = vocab.encode("And God said zebra")
    assert vocab.unk_id in ids
    assert vocab.decode(ids).startswith("And God said") and UNK in vocab.decode(ids)
    assert UNK in vocab.pieces(ids) and vocab.pieces(vocab.encode(" God")) == [" God"]


def test_load_gpt_reproduces_a_saved_model(model, idx, tmp_path):
    vocab = GPTVocab(list(range(100, 149)))  # 49 kept GPT-2 ids + <unk> = 50 rows
    for fp16 in (False, True):
        path = save_gpt(model, vocab, tmp_path / f"tiny-{fp16}.safetensors", fp16=fp16)
        loaded, loaded_vocab = load_gpt(path, device="cpu")
        assert loaded_vocab.gpt2_ids.tolist() == vocab.gpt2_ids.tolist() and loaded_vocab.unk_id == 49
        assert loaded.config == model.config and not loaded.training
        assert all(p.dtype == torch.float32 for p in loaded.parameters())
        tol = 2e-2 if fp16 else 0.0
        torch.testing.assert_close(loaded(idx).logits, model(idx).logits, atol=tol, rtol=0)


GENESIS = (
    "Genesis 1\n\nIn the beginning God created the heaven and the earth.\n"
    "And the earth was without form, and void; and darkness was upon the face of the deep. "
    "And the Spirit of God moved upon the face of the waters.\n"
    "And God said, Let there be light: and there was light.\n"
    "And God saw the light, that it was good: and God divided the light from the darkness.\n"
    "And God called the light Day, and the darkness he called Night. "
    "And the evening and the morning were the first day.\n"
)


@pytest.mark.skipif(
    not SHIPPED.exists(), reason="no shipped checkpoint: train it with `python -m scripts.train gpt --dataset kjv`"
)
def test_shipped_checkpoint_loads_predicts_its_corpus_and_attends_locally():
    from core.assets import sha256_of

    model, vocab = load_gpt(SHIPPED, device="cpu")
    card = json.loads(SHIPPED.with_suffix(".json").read_text())
    assert SHIPPED.stat().st_size < 30e6 and card["weights_sha256"] == sha256_of(SHIPPED)
    ids = torch.tensor([vocab.encode(GENESIS)[: model.config.block_size]])
    assert vocab.unk_id not in ids and ids.shape[1] > 100
    out = model(ids, need_attention=True)
    assert out.logits.shape == (1, ids.shape[1], len(vocab))
    # it learned the corpus: the loss on the opening verses is far below uniform guessing (ln V)
    loss = torch.nn.functional.cross_entropy(out.logits[0, :-1], ids[0, 1:]).item()
    assert loss < 0.5 * math.log(len(vocab))
    # its best previous-token head attends to t - 1 far more than uniform causal attention would
    T = ids.shape[1]
    uniform = sum(1 / (t + 1) for t in range(1, T)) / (T - 1)
    assert previous_token_scores(out.attentions).max() > 2.5 * uniform
    assert card["metrics"]["best_previous_token_score"] > 2.5 * uniform


# --- rotary positions (the shipped model's) ---


def test_rotary_scores_depend_only_on_the_offset():
    hs, T = 8, 10
    cos, sin = rotary_angles(T, hs, "cpu")
    q, k = torch.randn(hs), torch.randn(hs)
    same_q = rotate(q.expand(1, 1, T, hs), cos, sin)[0, 0]  # the same query vector at every position
    same_k = rotate(k.expand(1, 1, T, hs), cos, sin)[0, 0]
    scores = same_q @ same_k.T  # (T, T): query position t, key position s
    for offset in range(T):
        diagonal = scores.diagonal(-offset)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-5, rtol=0)
    assert not torch.allclose(scores.diagonal(0)[0], scores.diagonal(-1)[0])  # but the offset does matter


def test_rotation_keeps_norms_and_position_zero():
    cos, sin = rotary_angles(6, 8, "cpu")
    x = torch.randn(2, 3, 6, 8)
    rotated = rotate(x, cos, sin)
    torch.testing.assert_close(rotated.norm(dim=-1), x.norm(dim=-1))
    torch.testing.assert_close(rotated[:, :, 0], x[:, :, 0])  # angle 0 at position 0


def test_rotary_model_has_no_position_table_and_stays_causal(idx):
    torch.manual_seed(0)
    rotary = GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=4, n_embd=32, position="rotary")).eval()
    assert not hasattr(rotary, "wpe")
    out = rotary(idx, need_attention=True)
    torch.testing.assert_close(out.logits, rotary(idx).logits, atol=1e-5, rtol=0)  # explicit == fused
    for att in out.attentions:
        assert (att[..., torch.ones(12, 12, dtype=torch.bool).triu(diagonal=1)] == 0).all()
    prefix = rotary(idx[:, :7]).logits  # a causal model's first 7 outputs ignore what follows
    torch.testing.assert_close(prefix, out.logits[:, :7], atol=1e-5, rtol=0)


def test_unknown_position_encoding_is_refused():
    with pytest.raises(ValueError, match="position"):
        GPT(GPTConfig(vocab_size=10, block_size=4, n_layer=1, n_head=1, n_embd=8, position="sinusoidal"))
