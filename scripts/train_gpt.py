"""Trainer of the tiny GPT (core.gpt) the attention tab uses as its embedded causal model.

    python -m scripts.train gpt --dataset kjv            # the shipped recipe (needs `make data`)
    python -m scripts.train gpt --dataset kjv --steps 3 --source subset --out-dir some/folder

The corpus (scripts/build_gpt_corpus.py) is tokenized with GPT-2's BPE; the model's vocabulary
is the GPT-2 ids that occur in it plus <unk>. Training: random block_size windows of the
training text drawn from a seeded torch.Generator, AdamW (weight decay on matrices only),
linear warmup then cosine decay to a tenth of the peak, gradient clipping at 1.0.

The card reports the final train and validation loss (nats per token, on fixed windows, eval
mode), the validation loss of the weights after an fp16 round trip (they are stored in fp16
when that costs < 0.01 nats), and per-head attention scores as [layer][head] lists:
- previous-token score: mean attention from position t to t - 1 on validation text;
- induction score: on random tokens repeated twice, mean attention from a token of the second
  half to the token right after its earlier occurrence.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict

import torch

from core.device import get_device
from core.gpt import GPT, GPTConfig, GPTVocab, induction_scores, lm_loss, previous_token_scores, sample
from scripts.build_gpt_corpus import load_corpus
from scripts.pipeline import Report, TrainConfig, TrainerSpec, TrainResult

MODEL = {"block_size": 128, "n_layer": 4, "n_head": 8, "n_embd": 256, "dropout": 0.0, "position": "rotary"}
WARMUP_STEPS = 200
WEIGHT_DECAY = 0.1
EVAL_WINDOWS = 64  # validation windows per periodic evaluation
INDUCTION_PERIOD = 60  # random tokens, then the same tokens again: 120 of the 128 positions
SAMPLE_PROMPT = "And God said"


def windows(data: torch.Tensor, starts: torch.Tensor, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and next-token targets, (B, T) each, of the windows starting at `starts`."""
    idx = starts[:, None] + torch.arange(T + 1)  # (B, T + 1)
    chunk = data[idx]
    return chunk[:, :-1], chunk[:, 1:]


def fixed_starts(data: torch.Tensor, T: int, limit: int | None = None) -> torch.Tensor:
    """Starts of consecutive non-overlapping windows covering `data` (at most `limit`, evenly spread)."""
    starts = torch.arange(0, len(data) - T - 1, T)
    if limit is not None and len(starts) > limit:
        starts = starts[torch.linspace(0, len(starts) - 1, limit).long()]
    return starts


@torch.no_grad()
def mean_loss(model: GPT, data: torch.Tensor, starts: torch.Tensor, batch: int = 32) -> float:
    model.eval()
    device, T = next(model.parameters()).device, model.config.block_size
    total = 0.0
    for chunk in starts.split(batch):
        x, y = windows(data, chunk, T)
        total += lm_loss(model(x.to(device)).logits, y.to(device)).item() * len(chunk)
    return total / len(starts)


@torch.no_grad()
def head_scores(model: GPT, validation: torch.Tensor, generator: torch.Generator) -> dict[str, list]:
    """Per-head previous-token and induction scores, each a [layer][head] list."""
    model.eval()
    device, T = next(model.parameters()).device, model.config.block_size
    x, _ = windows(validation, fixed_starts(validation, T, limit=32), T)
    prev = previous_token_scores(model(x.to(device), need_attention=True).attentions)
    n_known = model.config.vocab_size - 1  # random tokens from the known vocabulary (not <unk>)
    first = torch.randint(n_known, (16, INDUCTION_PERIOD), generator=generator)
    repeated = torch.cat([first, first], dim=1).to(device)  # (16, 2 * period)
    ind = induction_scores(model(repeated, need_attention=True).attentions, INDUCTION_PERIOD)
    return {
        "previous_token": [[round(float(s), 4) for s in layer] for layer in prev],
        "induction": [[round(float(s), 4) for s in layer] for layer in ind],
    }


def best_head(scores: list[list[float]]) -> tuple[str, float]:
    layer, head = max(
        ((i, j) for i, row in enumerate(scores) for j in range(len(row))), key=lambda p: scores[p[0]][p[1]]
    )
    return f"L{layer}H{head}", scores[layer][head]


def train(config: TrainConfig, report: Report) -> TrainResult:
    device = get_device()
    corpus = load_corpus("kjv" if config.source == "full" else "python-docs")
    vocab = GPTVocab([0])  # only for its tokenizer until the corpus's vocabulary is known
    train_gpt2, val_gpt2 = vocab.gpt2_encode(corpus.train), vocab.gpt2_encode(corpus.validation)
    vocab = GPTVocab.from_gpt2_ids(train_gpt2 + val_gpt2)
    train_data = torch.tensor(vocab.from_gpt2(train_gpt2), dtype=torch.long)
    val_data = torch.tensor(vocab.from_gpt2(val_gpt2), dtype=torch.long)

    gpt_config = GPTConfig(vocab_size=len(vocab), **MODEL)
    T = gpt_config.block_size
    model = GPT(gpt_config).to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices and embeddings
    no_decay = [p for p in model.parameters() if p.dim() < 2]  # biases and LayerNorm gains
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.lr,
        betas=(0.9, 0.95),
    )
    warmup = min(WARMUP_STEPS, max(config.steps // 10, 1))

    def lr_factor(step: int) -> float:  # linear warmup, then cosine from 1 down to 0.1
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(config.steps - warmup, 1)
        return 0.1 + 0.45 * (1 + math.cos(math.pi * min(progress, 1.0)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    order = torch.Generator().manual_seed(config.seed)  # which windows each step sees
    eval_starts = fixed_starts(val_data, T, limit=EVAL_WINDOWS)
    running = None  # exponential moving average of the training loss

    for step in range(1, config.steps + 1):
        model.train()
        starts = torch.randint(len(train_data) - T - 1, (config.batch_size,), generator=order)
        x, y = windows(train_data, starts, T)
        loss = lm_loss(model(x.to(device)).logits, y.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % config.eval_every == 0 or step == config.steps:
            scores = head_scores(model, val_data, torch.Generator().manual_seed(config.seed))
            report(
                step,
                train_loss=running,
                val_loss=mean_loss(model, val_data, eval_starts),
                lr=schedule.get_last_lr()[0],
                best_previous_token=best_head(scores["previous_token"])[1],
                best_induction=best_head(scores["induction"])[1],
            )
        else:
            report(step)

    # final measurements, all in eval mode on fixed windows
    model.eval()
    all_val = fixed_starts(val_data, T)
    final = {
        "train_loss": mean_loss(model, train_data, fixed_starts(train_data, T, limit=len(all_val))),
        "val_loss": mean_loss(model, val_data, all_val),
    }
    half = copy.deepcopy(model)
    for p in half.parameters():
        p.data = p.data.half().float()
    final["val_loss_fp16_weights"] = mean_loss(half, val_data, all_val)
    fp16 = abs(final["val_loss_fp16_weights"] - final["val_loss"]) < 0.01
    final["val_perplexity"] = math.exp(final["val_loss"])

    scores = head_scores(model, val_data, order)
    for kind in ("previous_token", "induction"):
        head, value = best_head(scores[kind])
        final[f"best_{kind}_score"] = value
        final[f"best_{kind}_layer"], final[f"best_{kind}_head"] = (int(n) for n in head[1:].split("H"))
    prompt = torch.tensor([vocab.encode(SAMPLE_PROMPT)], device=device)
    continuation = list(
        sample(model, prompt, 48, temperature=0.8, top_k=40, generator=torch.Generator().manual_seed(0))
    )

    state = {k: v for k, v in model.state_dict().items()}
    state["gpt2_ids"] = vocab.gpt2_ids  # integers: the pipeline keeps them int64 in the file
    data = (
        f"{corpus.title}: {len(train_data):,} training / {len(val_data):,} validation GPT-2 tokens "
        f"({corpus.n_bytes / 1e6:.2f} MB, {config.source} set); {corpus.source}"
    )
    card = {
        "model": asdict(gpt_config),
        "parameters": model.num_parameters(),
        "vocabulary": f"{len(vocab) - 1:,} GPT-2 ids that occur in the corpus + <unk> (weights key gpt2_ids)",
        "attention_scores": scores,
        "sample": {
            "prompt": SAMPLE_PROMPT,
            "top_k": 40,
            "temperature": 0.8,
            "text": SAMPLE_PROMPT + vocab.decode(continuation),
        },
    }
    return TrainResult(state, final, data, fp16=fp16, card=card)


SPEC = TrainerSpec(
    train=train,
    datasets=("kjv",),
    defaults={"kjv": {"steps": 2_200, "batch_size": 16, "lr": 1e-3}},
)
