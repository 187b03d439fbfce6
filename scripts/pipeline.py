"""The training pipeline every checkpoint the app ships goes through.

A trainer is a function `(config, report) -> TrainResult`. The pipeline around it seeds
everything, picks the device (a GPU when present), times the run, saves the weights as
safetensors (fp16 where the trainer says quality allows) and writes a JSON card next to them:
data, config, steps, wall time, device, measured metrics and the file's sha256. Trainers call
`report(step, **metrics)` to log periodic metrics under the progress bar.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch

from core.assets import ASSETS_DIR, REPO_ROOT, sha256_of
from core.device import describe, get_device

CHECKPOINT_DIR = ASSETS_DIR / "checkpoints"


@dataclass
class TrainConfig:
    what: str  # which trainer, e.g. "evaluator"
    dataset: str  # "mnist", "fashion", or a 2-D distribution name
    steps: int
    batch_size: int
    lr: float
    seed: int = 0
    source: Literal["full", "subset"] = "full"  # smoke tests train on the shipped subsets
    eval_every: int = 500
    out_dir: Path = CHECKPOINT_DIR

    @property
    def name(self) -> str:
        return f"{self.what}-{self.dataset}"


@dataclass
class TrainResult:
    state_dict: dict[str, torch.Tensor]
    metrics: dict[str, float]  # final measured quality, copied into the card
    data: str  # one line: what the model was trained on
    fp16: bool = False  # store the weights in half precision (quality checked by the trainer)
    history: list[dict] = field(default_factory=list)  # the periodic metrics
    card: dict = field(default_factory=dict)  # extra card entries (e.g. a model's architecture)
    # extra files written beside the weights as <name><suffix>, e.g. {".umap.pkl": b"..."}
    files: dict[str, bytes] = field(default_factory=dict)
    # A model kept in its library's own folder layout (e.g. a diffusers pipeline) instead of one
    # safetensors file: save_folder(folder) writes it there; state_dict is then left empty.
    save_folder: Callable[[Path], None] | None = None


Report = Callable[..., None]
Trainer = Callable[[TrainConfig, Report], TrainResult]


@dataclass(frozen=True)
class TrainerSpec:
    train: Trainer
    datasets: tuple[str, ...]
    defaults: dict[str, dict]  # per dataset: steps, batch_size, lr, ...


def _portable(path: Path) -> str:
    """A path as the card records it: relative to the repository when inside it (cards travel)."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def run(spec: TrainerSpec, config: TrainConfig) -> Path:
    """Train, save weights + card under config.out_dir, return the card's path."""
    from safetensors.torch import save_file
    from tqdm import tqdm

    torch.manual_seed(config.seed)  # weight initialisation; data order uses the trainer's own generator
    history: list[dict] = []
    bar = tqdm(total=config.steps, desc=config.name, unit="step")

    def report(step: int, **values: float) -> None:
        bar.update(step - bar.n)
        if values:
            history.append({"step": step, **{k: round(float(v), 5) for k, v in values.items()}})
            bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()})

    started = time.perf_counter()
    result = spec.train(config, report)
    seconds = time.perf_counter() - started
    bar.close()

    config.out_dir.mkdir(parents=True, exist_ok=True)
    if result.save_folder is not None:
        return _save_folder_model(config, result, seconds, history)
    weights = config.out_dir / f"{config.name}.safetensors"
    dtype = torch.float16 if result.fp16 else torch.float32
    # floating-point tensors in the chosen precision; integer tensors (token id tables) unchanged
    save_file(
        {
            k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
            for k, v in result.state_dict.items()
        },
        str(weights),
    )
    extra_files = {}
    for suffix, content in result.files.items():
        extra = config.out_dir / f"{config.name}{suffix}"
        extra.write_bytes(content)
        extra_files[extra.name] = sha256_of(extra)
    card = {
        **_card_head(config, result, seconds),
        "weights": weights.name,
        "weights_dtype": "float16" if result.fp16 else "float32",
        "weights_sha256": sha256_of(weights),
        **({"files_sha256": extra_files} if extra_files else {}),
        "metrics": {k: round(float(v), 5) for k, v in result.metrics.items()},
        **_card_tail(config, result, history),
    }
    card_path = config.out_dir / f"{config.name}.json"
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return card_path


def _card_head(config: TrainConfig, result: TrainResult, seconds: float) -> dict:
    return {
        "name": config.name,
        "data": result.data,
        "config": {k: _portable(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "steps": config.steps,
        "wall_time_s": round(seconds, 1),
        "device": describe(get_device()).summary,
    }


def _card_tail(config: TrainConfig, result: TrainResult, history: list[dict]) -> dict:
    return {
        "metrics": {k: round(float(v), 5) for k, v in result.metrics.items()},
        "history": result.history or history,
        **result.card,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": f"python -m scripts.train {config.what} --dataset {config.dataset}",
    }


def _save_folder_model(config: TrainConfig, result: TrainResult, seconds: float, history: list[dict]) -> Path:
    """A folder model: out_dir/<name>/ in its library's layout, its card out_dir/<name>.json with every file's hash."""
    import shutil

    folder = config.out_dir / config.name
    if folder.exists():
        shutil.rmtree(folder)  # a retrained model replaces the old one entirely
    result.save_folder(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    card = {
        **_card_head(config, result, seconds),
        "folder": folder.name,
        "files_sha256": {str(p.relative_to(folder)): sha256_of(p) for p in files},
        **_card_tail(config, result, history),
    }
    card_path = config.out_dir / f"{config.name}.json"
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return card_path
