"""One entry point for every checkpoint the app ships.

    python -m scripts.train evaluator --dataset mnist          # full data, the shipped recipe
    python -m scripts.train evaluator --dataset fashion --steps 50 --source subset --out-dir some/folder

Seeded and reproducible; uses a GPU when one is present (PLAYGROUND_DEVICE overrides). Writes
<what>-<dataset>.safetensors and a JSON card into assets/checkpoints/ (or --out-dir).
Full data sets need `make data` first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scripts import pipeline, train_dcgan, train_ddpm, train_evaluator, train_flow, train_gpt, train_tinysd, train_vae

TRAINERS: dict[str, pipeline.TrainerSpec] = {
    "evaluator": train_evaluator.SPEC,
    "gpt": train_gpt.SPEC,
    "dcgan": train_dcgan.SPEC,
    "ddpm": train_ddpm.SPEC,
    "flow": train_flow.SPEC,
    "tinysd": train_tinysd.SPEC,
    **train_vae.SPECS,
}


def parse(argv: list[str] | None = None) -> tuple[pipeline.TrainerSpec, pipeline.TrainConfig]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=sorted(TRAINERS))
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--steps", type=int, help="default: the trainer's shipped recipe")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=["full", "subset"], default="full")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--out-dir", type=Path, default=pipeline.CHECKPOINT_DIR)
    args = parser.parse_args(argv)
    spec = TRAINERS[args.what]
    if args.dataset not in spec.datasets:
        parser.error(f"{args.what} trains on {', '.join(spec.datasets)}, not {args.dataset!r}")
    recipe = spec.defaults[args.dataset]
    config = pipeline.TrainConfig(
        what=args.what,
        dataset=args.dataset,
        steps=args.steps or recipe["steps"],
        batch_size=args.batch_size or recipe["batch_size"],
        lr=args.lr or recipe["lr"],
        seed=args.seed,
        source=args.source,
        eval_every=args.eval_every,
        out_dir=args.out_dir,
    )
    return spec, config


def main(argv: list[str] | None = None) -> Path:
    spec, config = parse(argv)
    card = pipeline.run(spec, config)
    print(card.read_text())
    return card


if __name__ == "__main__":
    main()
