"""From next-token logits to the next token: temperature, top-k, top-p (nucleus), greedy or sampled.

The order is the usual one (as in Hugging Face's generate): divide the logits by the temperature,
keep the k most likely tokens, then keep the smallest set of the most likely tokens whose
probability reaches p (Holtzman et al. 2020, https://arxiv.org/abs/1904.09751), renormalise.
Temperature 0 means greedy: all probability on the most likely token.
"""

from __future__ import annotations

import torch


def distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """(V,) logits -> (V,) probabilities after temperature, top-k (0 = off) and top-p (1 = off)."""
    if not temperature >= 0:
        raise ValueError("The temperature must be 0 or more.")
    if not 0 < top_p <= 1:
        raise ValueError("top-p must be in (0, 1].")
    logits = logits.double()
    if temperature == 0:
        probs = torch.zeros_like(logits)
        probs[logits.argmax()] = 1.0
        return probs.float()
    logits = logits / temperature  # 1. temperature: < 1 sharpens, > 1 flattens
    if top_k and top_k < logits.numel():  # 2. keep the k largest
        kth = torch.topk(logits, int(top_k)).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1:  # 3. nucleus: the smallest top set whose mass reaches p
        sorted_probs, order = probs.sort(descending=True)
        before = sorted_probs.cumsum(0) - sorted_probs  # mass of the more likely tokens
        drop = order[before >= top_p]
        probs[drop] = 0.0
        probs = probs / probs.sum()
    return probs.float()


def choose(probs: torch.Tensor, greedy: bool = False, generator: torch.Generator | None = None) -> int:
    """The next token: the most likely one, or a sample drawn with `generator`."""
    if greedy:
        return int(probs.argmax())
    return int(torch.multinomial(probs.double(), 1, generator=generator))
