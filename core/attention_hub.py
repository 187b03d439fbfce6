"""Hugging Face Hub models for the attention tab: BERT-style encoders and GPT-2-style decoders.

Used only when the Hub is reachable (e.g. openai-community/gpt2, distilbert/distilgpt2,
google-bert/bert-base-uncased, or any Hub id of those two architectures), or from a local
folder holding such a model. Loads never run remote code and read safetensors only; the model's
own tokenizer goes through core.tokenizers' shared path (the Tokenizer tab can show the same id).
Queries, keys and values are captured with forward hooks, as for the embedded models.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch

from core import assets
from core.attention import AttentionRun
from core.device import get_device
from core.tokenizers import HFTokenizer, wrap

SUPPORTED = {"bert": False, "gpt2": True}  # model_type -> causal
SUGGESTED = ["openai-community/gpt2", "distilbert/distilgpt2", "google-bert/bert-base-uncased"]


@dataclass(frozen=True)
class HubModel:
    source: str  # Hub id or local folder
    model: torch.nn.Module
    tokenizer: HFTokenizer
    causal: bool


@functools.lru_cache(maxsize=3)  # bounded: each model costs hundreds of MB
def _load(source: str) -> HubModel:
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as err:
        raise assets.AssetError(f"Could not load a model named {source!r} ({assets._first_line(err)}).") from None
    if config.model_type not in SUPPORTED:
        raise assets.AssetError(
            f"{source} is a {config.model_type!r} model; this tab opens BERT-style and GPT-2-style models."
        )
    causal = SUPPORTED[config.model_type]
    loader = AutoModelForCausalLM if causal else AutoModel
    try:
        model = loader.from_pretrained(
            source, attn_implementation="eager", use_safetensors=True, trust_remote_code=False
        )
        tokenizer = wrap(
            f"hub:{source}", f"{source} (Hub)", AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        )
    except (OSError, ValueError) as err:
        raise assets.AssetError(f"Could not load {source!r} ({assets._first_line(err)}).") from None
    return HubModel(source, model.eval().to(get_device()), tokenizer, causal)


def load(source: str) -> HubModel:
    """A Hub id (needs the Hub) or a local folder; one sentence of AssetError when it cannot be used."""
    source = source.strip()
    if len(source) > 4096 or not Path(source).is_dir():  # (longer than any path: is_dir would raise)
        if not source or len(source) > 96 or any(ch.isspace() for ch in source):
            raise assets.AssetError(f"{source[:40]!r} is not a Hub id; ids look like 'owner/name'.")
        if not assets.hub_status().reachable:
            raise assets.HubUnavailable(
                "The Hugging Face Hub is not reachable from this server, so Hub models cannot be added."
            )
    with assets._load_lock:
        return _load(source)


@torch.no_grad()
def _run_gpt2(model, ids: list[int]) -> tuple[torch.Tensor, ...]:
    """Attentions, queries, keys, values (each stacked over layers) and logits of a GPT-2 model."""
    captured: dict[int, torch.Tensor] = {}
    heads = model.config.n_head
    hooks = []
    for index, block in enumerate(model.transformer.h):

        def keep(_module, _inputs, output, index=index):
            B, T, C3 = output.shape  # c_attn projects to [q | k | v]
            q, k, v = output.split(C3 // 3, dim=2)
            captured[index] = torch.stack(
                [x.view(B, T, heads, -1).transpose(1, 2)[0] for x in (q, k, v)]
            )  # (3, H, T, d)

        hooks.append(block.attn.c_attn.register_forward_hook(keep))
    try:
        out = model(torch.tensor([ids], device=next(model.parameters()).device), output_attentions=True)
    finally:
        for hook in hooks:
            hook.remove()
    attentions = torch.stack([a[0] for a in out.attentions]).float().cpu()
    qkv = torch.stack([captured[i] for i in range(len(model.transformer.h))]).float().cpu()  # (L, 3, H, T, d)
    return attentions, qkv[:, 0], qkv[:, 1], qkv[:, 2], out.logits[0].float().cpu()


def run(hub: HubModel, key: str, text: str, notices: list[str], max_tokens: int) -> AttentionRun:
    from core.attention_models import _label, _run_bert

    tokens = hub.tokenizer.encode(text)
    hf = hub.tokenizer.tokenizer
    added = 0 if hub.causal else 2  # BERT reads [CLS] ... [SEP]
    limit = (
        min(max_tokens, getattr(hub.model.config, "n_positions", None) or hub.model.config.max_position_embeddings)
        - added
    )
    if len(tokens) > limit:
        notices.append(f"The text has {len(tokens)} tokens; only the first {limit} are shown.")
        tokens = tokens[:limit]
    if not tokens:
        raise ValueError("The text has no tokens this model can read.")
    if hub.causal:
        ids = [t.id for t in tokens]
        attentions, queries, keys, values, logits = _run_gpt2(hub.model, ids)
        labels, positions, special = [_label(t) for t in tokens], list(tokens), torch.zeros(len(ids), dtype=torch.bool)
    else:
        ids = [hf.cls_token_id, *(t.id for t in tokens), hf.sep_token_id]
        attentions, queries, keys, values = _run_bert(hub.model, ids)
        logits = None
        labels, positions = ["[CLS]", *(t.piece for t in tokens), "[SEP]"], [None, *tokens, None]
        special = torch.zeros(len(ids), dtype=torch.bool)
        special[0] = special[-1] = True
    return AttentionRun(
        key,
        labels,
        positions,
        special,
        attentions,
        queries,
        keys,
        values,
        hub.causal,
        logits,
        " ".join(notices) or None,
    )
