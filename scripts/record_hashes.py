"""Copy the hashes the training cards record into core/checkpoints.py, after retraining checkpoints.

    python -m scripts.record_hashes            # every card in assets/checkpoints/
    python -m scripts.record_hashes --check    # exit 1 if core/checkpoints.py is out of date

The registry pins every shipped file by its sha256 (a load refuses a file that differs), so a
retrained checkpoint needs its new hash in core/checkpoints.py: single checkpoints in a named
constant, families in a table (VAE_CHECKPOINTS with the 16-D models' UMAP reducers, DCGAN_, DDPM_, FLOW_CHECKPOINTS).
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from core.assets import ASSETS_DIR, REPO_ROOT

# checkpoints listed in a table of (title, weights hash, extra file hash)
FAMILIES = ("vae-", "dcgan-", "ddpm-", "flow-")

HASHES_PY = REPO_ROOT / "core" / "checkpoints.py"
# models kept as a folder (a diffusers pipeline): a table of {file inside the folder: hash}
FOLDERS = {"tinysd-captioned": "TINYSD_CAPTIONED_FILES"}
CONSTANTS = {
    "evaluator-mnist": "EVALUATOR_MNIST_SHA256",
    "evaluator-fashion": "EVALUATOR_FASHION_SHA256",
    "gpt-kjv": "GPT_KJV_SHA256",
}


def updated_source(source: str) -> tuple[str, list[str]]:
    """core/checkpoints.py's text with every card's hashes filled in, and the names that changed."""
    changed = []
    for card_path in sorted((ASSETS_DIR / "checkpoints").glob("*.json")):
        card = json.loads(card_path.read_text())
        name, weights = card.get("name"), card.get("weights_sha256")
        if name in FOLDERS and card.get("files_sha256"):
            pattern = re.compile(rf"^{FOLDERS[name]}: dict\[str, str\] = \{{\n.*?^\}}$", re.MULTILINE | re.DOTALL)
            rows = "".join(f'    "{path}": "{sha}",\n' for path, sha in sorted(card["files_sha256"].items()))
            replacement = f"{FOLDERS[name]}: dict[str, str] = {{\n{rows}}}"
        elif not name or not weights:
            continue
        elif name in CONSTANTS:
            pattern = re.compile(rf'^({CONSTANTS[name]} = )"[0-9a-f]*"$', re.MULTILINE)
            replacement = rf'\g<1>"{weights}"'
        elif name.startswith(FAMILIES):
            extra = next(iter((card.get("files_sha256") or {}).values()), None)
            # one entry, however it is wrapped; written back in the wrapped form ruff keeps
            pattern = re.compile(
                rf'^    "{re.escape(name)}": \(\s*("[^"]*"),\s*"[0-9a-f]*",\s*(?:None|"[0-9a-f]*"),?\s*\),$',
                re.MULTILINE,
            )
            extra_text = f'"{extra}"' if extra else "None"
            replacement = f'    "{name}": (\n        \\g<1>,\n        "{weights}",\n        {extra_text},\n    ),'
        else:
            continue
        if name in FOLDERS:  # a literal replacement: no backslash escapes to interpret
            new, count = pattern.subn(lambda _, text=replacement: text, source)
        else:
            new, count = pattern.subn(replacement, source)
        if count != 1:
            raise SystemExit(f"{name}: expected one entry for it in core/checkpoints.py, found {count}")
        if new != source:
            changed.append(name)
        source = new
    return source, changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report whether core/checkpoints.py is up to date")
    args = parser.parse_args(argv)
    source = HASHES_PY.read_text()
    new, changed = updated_source(source)
    if args.check:
        print("up to date" if not changed else f"out of date: {', '.join(changed)}")
        return 1 if changed else 0
    HASHES_PY.write_text(new)
    print(f"updated: {', '.join(changed)}" if changed else "core/checkpoints.py already matches the cards")
    return 0


if __name__ == "__main__":
    sys.exit(main())
