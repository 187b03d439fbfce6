"""Attention, opened up: what a real transformer attends to, and the numbers behind it.

Conventions: attention weights are float32 tensors of shape (L, H, T, T) = (layer, head, query,
key); each row (one query) sums to 1. Causal models have exact zeros above the diagonal.

What this module computes, all from one forward pass with the weights kept:
- `run`: tokens (through the shared path of core.tokenizers, so the Tokenizer tab shows the very
  same tokens), attentions, and the per-head queries, keys and values;
- `rollout`: attention rollout (Abnar and Zuidema 2020, https://arxiv.org/abs/2005.00928):
  average the heads, add the identity for the residual stream, renormalise, multiply the layers;
- `head_statistics`: entropy, mean attention distance, previous-token score, sink share
  (attention to special / first tokens) per head, and an induction score for causal models;
- `inside_head`: one head's computation for one query, step by step (scores = q.K^T / sqrt(d),
  mask, softmax, weighted sum of V) by our own code, so learners see real numbers; a reference
  test checks it equals the model's own attention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.tokenizers import Token

MAX_VIEW_TOKENS = 128  # grid, BertViz, rollout: beyond this the input is cut, with a notice
MAX_STATS_TOKENS = 512  # head statistics read further (numbers only; the model's context permitting)
MAX_STATS_TOKENS = 512


@dataclass(frozen=True)
class AttentionRun:
    model_key: str
    labels: list[str]  # one display label per position, specials included ("[CLS]", "▁the", ...)
    tokens: list[Token | None]  # the text token at each position (None for added special tokens)
    special: torch.Tensor  # (T,) bool: positions holding special tokens ([CLS], [SEP], <bos>)
    attentions: torch.Tensor  # (L, H, T, T)
    queries: torch.Tensor  # (L, H, T, head_dim)
    keys: torch.Tensor  # (L, H, T, head_dim)
    values: torch.Tensor  # (L, H, T, head_dim)
    causal: bool
    logits: torch.Tensor | None = None  # (T, V) next-token logits, causal models only
    notice: str | None = None  # e.g. "cut to the first 128 tokens"

    @property
    def n_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def n_heads(self) -> int:
        return self.attentions.shape[1]


# ---- attention rollout -----------------------------------------------------------------------


def rollout(attentions: torch.Tensor, residual: bool = True) -> torch.Tensor:
    """(L, H, T, T) -> (T, T): how much each position's final state draws on each input token.

    1. average over heads; 2. add the identity (the residual connection carries the token itself
    through) and renormalise rows; 3. multiply layer by layer, later layers on the left.
    """
    result = torch.eye(attentions.shape[-1], dtype=torch.float64)
    for layer in attentions.double():
        mixed = layer.mean(dim=0)  # 1. (T, T)
        if residual:
            mixed = 0.5 * mixed + 0.5 * torch.eye(mixed.shape[-1], dtype=mixed.dtype)  # 2.
            mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        result = mixed @ result  # 3.
    return result.float()


# ---- per-head statistics ---------------------------------------------------------------------


@dataclass(frozen=True)
class HeadStats:
    layer: int
    head: int
    entropy: float  # mean over queries of -sum p log p, in bits (0 = looks at one token)
    mean_distance: float  # mean over queries of sum_k p_k |q - k|, in tokens
    previous_token: float  # mean attention from each position to the one before it
    sink: float  # mean attention paid to special tokens and to the first position
    induction: float | None = None  # causal models: see induction_scores


def head_statistics(run: AttentionRun, induction: torch.Tensor | None = None) -> list[HeadStats]:
    A = run.attentions.double()  # (L, H, T, T)
    T = A.shape[-1]
    positions = torch.arange(T, dtype=torch.float64)
    distance = (positions[:, None] - positions[None, :]).abs()  # (T, T)
    entropy = -(A * torch.log2(A.clamp_min(1e-12))).sum(-1).mean(-1)  # (L, H)
    mean_distance = (A * distance).sum(-1).mean(-1)  # (L, H)
    previous = A.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1) if T > 1 else torch.zeros(A.shape[:2])  # (L, H)
    sink_keys = run.special.clone()
    sink_keys[0] = True
    sink = A[..., sink_keys].sum(-1).mean(-1)  # (L, H)
    return [
        HeadStats(
            layer=layer,
            head=head,
            entropy=float(entropy[layer, head]),
            mean_distance=float(mean_distance[layer, head]),
            previous_token=float(previous[layer, head]),
            sink=float(sink[layer, head]),
            induction=None if induction is None else float(induction[layer, head]),
        )
        for layer in range(A.shape[0])
        for head in range(A.shape[1])
    ]


def induction_scores(attentions: torch.Tensor, half: int) -> torch.Tensor:
    """(L, H) induction score on a sequence whose second half repeats the first.

    For a token at position t in the second half (t >= half + 1), an induction head attends to the
    token right after the earlier occurrence of the current token, position t - half + 1.
    `attentions` must come from a run on [x_1..x_half, x_1..x_half] (plus a prefix position 0 for
    a <bos>, if the model adds one: the caller passes attentions with that prefix removed).
    """
    A = attentions.double()
    queries = torch.arange(half + 1, 2 * half)
    targets = queries - half + 1
    return A[:, :, queries, targets].mean(-1).float()


# ---- inside one head -------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadComputation:
    """One query of one head, phase by phase (all tensors over the T keys)."""

    scores: torch.Tensor  # (T,) q . k_j / sqrt(d)
    masked: torch.Tensor  # (T,) scores with -inf where a causal model may not look
    weights: torch.Tensor  # (T,) softmax(masked): the attention row
    output: torch.Tensor  # (head_dim,) sum_j weights_j v_j
    scale: float  # 1 / sqrt(d)


def inside_head(
    query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, position: int, causal: bool
) -> HeadComputation:
    """Scaled dot-product attention for the query at `position` (Vaswani et al. 2017, eq. 1).

    query: (d,); keys, values: (T, d).
    """
    scale = 1.0 / math.sqrt(query.shape[-1])
    scores = (keys.double() @ query.double()) * scale  # 1. similarity of the query to every key
    masked = scores.clone()
    if causal:
        masked[position + 1 :] = float("-inf")  # 2. a causal model cannot look ahead
    weights = torch.softmax(masked, dim=-1)  # 3. normalise to a distribution over keys
    output = weights @ values.double()  # 4. mix the values
    return HeadComputation(scores.float(), masked.float(), weights.float(), output.float(), scale)
