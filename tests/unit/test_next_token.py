"""Known answers for temperature, top-k, top-p and the choice of the next token."""

from __future__ import annotations

import pytest
import torch

from core.next_token import choose, distribution

LOGITS = torch.tensor([2.0, 1.0, 0.5, -1.0])


def test_plain_softmax_and_sums_to_one():
    assert torch.allclose(distribution(LOGITS), torch.softmax(LOGITS, 0))
    for t, k, p in [(0.5, 0, 1.0), (2.0, 2, 1.0), (1.0, 0, 0.5), (1.3, 3, 0.9)]:
        assert distribution(LOGITS, t, k, p).sum().item() == pytest.approx(1.0)


def test_temperature_zero_is_greedy_and_low_temperature_sharpens():
    assert distribution(LOGITS, 0.0).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert distribution(LOGITS, 0.5)[0] > distribution(LOGITS, 1.0)[0] > distribution(LOGITS, 2.0)[0]


def test_top_k_keeps_exactly_k():
    probs = distribution(LOGITS, 1.0, top_k=2)
    assert (probs > 0).tolist() == [True, True, False, False]
    assert torch.allclose(probs[:2], torch.softmax(LOGITS[:2], 0))


def test_top_p_keeps_the_smallest_nucleus():
    base = torch.softmax(LOGITS, 0)  # [0.61, 0.22, 0.14, 0.03]
    assert (distribution(LOGITS, 1.0, top_p=0.5) > 0).tolist() == [True, False, False, False]
    assert (distribution(LOGITS, 1.0, top_p=base[0].item() + 0.01) > 0).tolist() == [True, True, False, False]
    assert (distribution(LOGITS, 1.0, top_p=1.0) > 0).all()


def test_choose_greedy_and_seeded_sampling():
    probs = distribution(LOGITS)
    assert choose(probs, greedy=True) == 0
    draws = [choose(probs, generator=torch.Generator().manual_seed(s)) for s in range(200)]
    assert draws == [choose(probs, generator=torch.Generator().manual_seed(s)) for s in range(200)]
    assert 0.45 < draws.count(0) / 200 < 0.75  # about 61% of the mass


@pytest.mark.parametrize(("t", "p"), [(-1.0, 1.0), (float("nan"), 1.0), (1.0, 0.0), (1.0, 1.5)])
def test_bad_settings_are_refused(t, p):
    with pytest.raises(ValueError):
        distribution(LOGITS, t, 0, p)
