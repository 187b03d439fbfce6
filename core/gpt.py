"""A tiny GPT: the causal language model the attention tab looks inside.

A decoder-only transformer in the style of nanoGPT (https://github.com/karpathy/nanoGPT):
GPT-2's architecture (Radford et al. 2019, "Language Models are Unsupervised Multitask
Learners") on the attention of "Attention Is All You Need" (Vaswani et al. 2017,
https://arxiv.org/abs/1706.03762), scaled down to train on a 2-core CPU.

Conventions:
- Shapes follow the paper names: B batch, T sequence length (<= block_size), C = n_embd,
  H = n_head, hs = C / H the head size, V the model's vocabulary size.
- Pre-LayerNorm blocks: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)); a final ln_f.
- Positions: `position="learned"` adds GPT-2's learned absolute position embeddings (wpe) to
  the token embeddings; `position="rotary"` instead rotates each head's queries and keys by an
  angle proportional to their position (RoPE, Su et al. 2021, https://arxiv.org/abs/2104.09864),
  so a score depends on the tokens' offset, not on where they are. The shipped model is rotary:
  "attend to the token before" is then one fixed pattern at every position, and a small model
  trained briefly learns it where the learned embeddings left its heads diffuse.
- Tied input/output embeddings: the logits are the final hidden states times the token
  embedding matrix transposed (no separate lm_head).
- Causal attention: position t attends to positions <= t. `forward(idx, need_attention=True)`
  computes softmax(Q K^T / sqrt(hs) + mask) explicitly and returns the weights and Q, K, V of
  every layer (Q and K after the rotation for a rotary model: the vectors that are dotted);
  otherwise it calls F.scaled_dot_product_attention(is_causal=True) (faster, the same numbers
  to float32 rounding).
- Tokens: GPT-2's byte-level BPE (core.tokenizers.get_tokenizer("gpt2"), the tokenizer tab's).
  To keep the checkpoint small the model's vocabulary is only the GPT-2 ids that occur in its
  training corpus, sorted, plus one <unk> row at the end: `GPTVocab` maps between the two id
  spaces. GPT-2 tokens outside the corpus become <unk>.

Nothing loads at import time; `load_gpt(path)` reads a safetensors file and the JSON card
next to it (key "model": the GPTConfig).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

UNK = "<unk>"


@dataclass
class GPTConfig:
    vocab_size: int = 512  # model ids: the kept GPT-2 ids + 1 for <unk>
    block_size: int = 128  # the longest context, in tokens
    n_layer: int = 4
    n_head: int = 8
    n_embd: int = 256
    dropout: float = 0.0
    bias: bool = True
    position: str = "learned"  # "learned" (GPT-2's wpe) or "rotary" (RoPE)


@dataclass
class GPTOutput:
    logits: torch.Tensor  # (B, T, V)
    attentions: tuple[torch.Tensor, ...] | None = None  # per layer (B, H, T, T), rows sum to 1
    queries: tuple[torch.Tensor, ...] | None = None  # per layer (B, H, T, hs)
    keys: tuple[torch.Tensor, ...] | None = None
    values: tuple[torch.Tensor, ...] | None = None


class GPTVocab:
    """The model's vocabulary: model id i is GPT-2 id gpt2_ids[i]; id len(gpt2_ids) is <unk>."""

    def __init__(self, gpt2_ids: torch.Tensor | list[int]):
        self.gpt2_ids = torch.as_tensor(gpt2_ids, dtype=torch.long).flatten()
        self.unk_id = len(self.gpt2_ids)
        self._index = {int(g): i for i, g in enumerate(self.gpt2_ids.tolist())}
        self._tokenizer = None

    def __len__(self) -> int:
        return self.unk_id + 1

    @classmethod
    def from_gpt2_ids(cls, corpus_ids: list[int] | torch.Tensor) -> GPTVocab:
        """The vocabulary of a corpus: every GPT-2 id that occurs in it, sorted."""
        return cls(torch.unique(torch.as_tensor(corpus_ids, dtype=torch.long)))

    @property
    def tokenizer(self):
        """The GPT-2 tokenizer (core.tokenizers.HFTokenizer), loaded on first use."""
        if self._tokenizer is None:
            from core.tokenizers import get_tokenizer

            self._tokenizer = get_tokenizer("gpt2")[0]
        return self._tokenizer

    def from_gpt2(self, gpt2_ids: list[int]) -> list[int]:
        return [self._index.get(int(g), self.unk_id) for g in gpt2_ids]

    def to_gpt2_ids(self, model_ids: list[int] | torch.Tensor) -> list[int | None]:
        """GPT-2 ids of model ids; None for <unk>."""
        table = self.gpt2_ids.tolist()
        return [table[i] if i < self.unk_id else None for i in torch.as_tensor(model_ids).flatten().tolist()]

    def gpt2_encode(self, text: str) -> list[int]:
        """GPT-2 ids exactly as the tokenizer tab shows them (typed special tokens are plain text)."""
        hf = self.tokenizer.tokenizer
        return hf(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]

    def encode(self, text: str) -> list[int]:
        return self.from_gpt2(self.gpt2_encode(text))

    def pieces(self, model_ids: list[int] | torch.Tensor) -> list[str]:
        """One readable string per model id (for axis labels); <unk> for the unknown row."""
        hf = self.tokenizer.tokenizer
        return [UNK if g is None else hf.decode([g]) for g in self.to_gpt2_ids(model_ids)]

    def decode(self, model_ids: list[int] | torch.Tensor) -> str:
        hf = self.tokenizer.tokenizer
        out, run = [], []
        for g in self.to_gpt2_ids(model_ids):  # decode runs of known ids together (multi-byte characters)
            if g is None:
                out.append(hf.decode(run) + UNK)
                run = []
            else:
                run.append(g)
        return "".join(out) + hf.decode(run)


def rotary_angles(T: int, hs: int, device: torch.device | str, base: float = 10_000.0):
    """cos and sin, (T, hs/2) each, of the angle t * base^(-2i/hs) for position t and pair i."""
    inverse_wavelengths = base ** (-torch.arange(0, hs, 2, device=device, dtype=torch.float32) / hs)
    angles = torch.arange(T, device=device, dtype=torch.float32)[:, None] * inverse_wavelengths
    return angles.cos(), angles.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pair i = (x[..., i], x[..., i + hs/2]) of x (B, H, T, hs) by position t's angle.

    Rotations compose, so the dot product of a query rotated by angle(t) and a key rotated by
    angle(s) equals that of the unrotated pair with the key rotated by angle(s - t).
    """
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0, "n_embd must be a multiple of n_head"
        self.n_head, self.dropout = config.n_head, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v of all heads
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, need_attention: bool = False, rotation=None):
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, hs).transpose(1, 2) for t in (q, k, v))  # (B, H, T, hs)
        if rotation is not None:
            q, k = rotate(q, *rotation), rotate(k, *rotation)
        p = self.dropout if self.training else 0.0
        if need_attention:
            # softmax(Q K^T / sqrt(hs) + M), M = -inf above the diagonal: eq. 1 of Vaswani et al.
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, H, T, T)
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            att = F.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)  # exactly 0 above the diagonal
            y = F.dropout(att, p, self.training) @ v  # (B, H, T, hs)
        else:
            att = None
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y)), (att, q, k, v)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, need_attention: bool = False, rotation=None):
        a, inside = self.attn(self.ln_1(x), need_attention, rotation)
        x = x + a
        return x + self.mlp(self.ln_2(x)), inside


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)  # token embeddings, also the output layer
        if config.position not in ("learned", "rotary"):
            raise ValueError(f"unknown position encoding {config.position!r}: use 'learned' or 'rotary'")
        if config.position == "learned":
            self.wpe = nn.Embedding(config.block_size, config.n_embd)  # learned position embeddings
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: scale the residual projections by 1/sqrt(2 n_layer)
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor, need_attention: bool = False) -> GPTOutput:
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"{T} tokens exceed the model's context of {self.config.block_size}")
        x = self.wte(idx)  # (B, T, C)
        rotation = None
        if self.config.position == "learned":
            x = x + self.wpe(torch.arange(T, device=idx.device))
        else:
            rotation = rotary_angles(T, self.config.n_embd // self.config.n_head, idx.device)
        x = self.drop(x)
        inside = []
        for block in self.h:
            x, parts = block(x, need_attention, rotation)
            inside.append(parts)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied embeddings: (B, T, V)
        if not need_attention:
            return GPTOutput(logits)
        att, q, k, v = (tuple(per_layer) for per_layer in zip(*inside, strict=True))
        return GPTOutput(logits, attentions=att, queries=q, keys=k, values=v)


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats): logits (B, T, V), targets (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


@torch.no_grad()
def sample(
    model: GPT,
    idx: torch.Tensor,
    steps: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> Iterator[int]:
    """Append `steps` sampled tokens to idx (1, T), yielding each; temperature 0 is greedy."""
    for _ in range(steps):
        logits = model(idx[:, -model.config.block_size :]).logits[0, -1]  # (V,)
        if temperature <= 0:
            nxt = int(logits.argmax())
        else:
            logits = logits / temperature
            if top_k:
                kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = int(torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator))
        idx = torch.cat([idx, idx.new_tensor([[nxt]])], dim=1)
        yield nxt


# --- per-head scores (the card reports them; the attention tab shows them) ---


def previous_token_scores(attentions: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """(L, H): mean attention from each position t >= 1 to t - 1."""
    att = torch.stack(attentions)  # (L, B, H, T, T)
    return att.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=(1, 3))


def induction_scores(attentions: tuple[torch.Tensor, ...], period: int) -> torch.Tensor:
    """(L, H) on a sequence whose second half repeats the first (`period` tokens each).

    A token at t >= period occurred before at t - period; an induction head attends to the
    token right after that occurrence, at t - period + 1 (Olsson et al. 2022,
    https://transformer-circuits.pub/2022/in-context-learning-and-induction-heads/).
    """
    att = torch.stack(attentions)  # (L, B, H, T, T)
    return att.diagonal(offset=-(period - 1), dim1=-2, dim2=-1)[..., -period:].mean(dim=(1, 3))


# --- saving and loading ---


def save_gpt(model: GPT, vocab: GPTVocab, path: str | Path, fp16: bool = False) -> Path:
    """Write path (.safetensors) and the JSON card beside it, in the format load_gpt reads."""
    from safetensors.torch import save_file

    path = Path(path)
    dtype = torch.float16 if fp16 else torch.float32
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    tensors["gpt2_ids"] = vocab.gpt2_ids.clone()
    save_file(tensors, str(path))
    path.with_suffix(".json").write_text(json.dumps({"model": asdict(model.config)}, indent=2) + "\n")
    return path


def load_gpt(path: str | Path, device: torch.device | str | None = None) -> tuple[GPT, GPTVocab]:
    """The model (eval mode, float32) and its vocabulary from a safetensors file + JSON card."""
    from safetensors.torch import load_file

    path = Path(path)
    card = json.loads(path.with_suffix(".json").read_text())
    if "model" not in card:
        raise ValueError(f"{path.with_suffix('.json')} has no 'model' entry (the GPTConfig)")
    tensors = load_file(str(path))
    vocab = GPTVocab(tensors.pop("gpt2_ids"))
    config = GPTConfig(**card["model"])
    model = GPT(config)
    model.load_state_dict({k: v.float() for k, v in tensors.items()})  # fp16 on disk -> float32
    if device is None:
        from core.device import get_device

        device = get_device()
    return model.to(device).eval(), vocab
