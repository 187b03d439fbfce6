"""Smoke test: every registered trainer runs a few steps end to end, so none can rot."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from scripts import train

CARD_FIELDS = {
    "name",
    "data",
    "config",
    "steps",
    "wall_time_s",
    "device",
    "weights",
    "weights_sha256",
    "metrics",
    "history",
}


@pytest.mark.parametrize("what", sorted(train.TRAINERS))
def test_every_trainer_runs_a_few_steps_and_writes_weights_and_card(what, tmp_path):
    dataset = train.TRAINERS[what].datasets[0]
    card_path = train.main(
        [
            what,
            "--dataset",
            dataset,
            "--steps",
            "3",
            "--eval-every",
            "2",
            "--source",
            "subset",
            "--out-dir",
            str(tmp_path),
        ]
    )
    card = json.loads(card_path.read_text())
    if "folder" in card:  # a model in its library's folder layout: every file hashed, no single weights file
        assert set(card) >= CARD_FIELDS - {"weights", "weights_sha256"} | {"files_sha256"}
        files = [tmp_path / card["folder"] / name for name in card["files_sha256"]]
        weight_files = [path for path in files if path.suffix == ".safetensors"]
    else:
        assert set(card) >= CARD_FIELDS
        weight_files = [tmp_path / card["weights"]]
    assert card["steps"] == 3 and card["config"]["source"] == "subset"
    # periodic metrics at every eval step and at the end (a trainer may also score its untrained start)
    assert [entry["step"] for entry in card["history"] if entry["step"] > 0] == [2, 3]
    for path in weight_files:
        weights = load_file(str(path))
        assert weights and all(t.isfinite().all() for t in weights.values())


def test_unknown_dataset_is_refused(capsys):
    with pytest.raises(SystemExit):
        train.parse(["evaluator", "--dataset", "cifar10"])
    assert "trains on mnist, fashion" in capsys.readouterr().err


def test_extra_files_are_written_beside_the_weights_with_their_hashes(tmp_path):
    """The 16-D VAE ships its fitted UMAP reducer; the card pins it like the weights."""
    from core.assets import sha256_of

    card_path = train.main(
        ["vae-16d", "--dataset", "mnist", "--steps", "2", "--source", "subset", "--out-dir", str(tmp_path)]
    )
    card = json.loads(card_path.read_text())
    reducer = tmp_path / "vae-16d-mnist.umap.pkl"
    assert card["files_sha256"] == {reducer.name: sha256_of(reducer)}
    weights = load_file(str(tmp_path / card["weights"]))
    assert weights["umap_embedding"].shape == (card["umap"]["points"], 2)
    assert weights["test_latents"].shape[1] == 16 and len(weights["test_labels"]) == len(weights["test_latents"])
