"""Run every benchmark and print one JSON document (also written to bench/results/latest.json).

    python -m bench                # every section but `load`
    python -m bench tokenizers     # one section
    python -m bench load           # the lecture-hall load test (5 minutes)

Figures are measurements on the machine it runs on; compare only runs on the same device.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # benchmarks measure the embedded defaults
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bench import (
    attention,
    batching,
    common,
    diffusion,
    evaluator,
    flow,
    gan,
    guidance,
    load,
    tokenizers,
    vae,
)  # after the environment is set

SECTIONS = {
    "tokenizers": tokenizers.run,
    "attention": attention.run,
    "evaluator": evaluator.run,
    "vae": vae.run,
    "gan": gan.run,
    "diffusion": diffusion.run,
    "flow": flow.run,
    "guidance": guidance.run,
    "batching": batching.run,  # guidance requests of 1, 4 and 8 users, batched or not (two servers)
    "load": load.run,  # 50 simulated students for 5 minutes against a fresh server
}
ON_REQUEST = {"load"}  # long and server-wide: runs only when named


def main(argv: list[str]) -> None:
    chosen = argv or [name for name in SECTIONS if name not in ON_REQUEST]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        sys.exit(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    report = {"environment": common.environment()}
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr)
        report[name] = SECTIONS[name]()
    text = json.dumps(report, indent=2)
    out = Path(__file__).parent / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
