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
    assert set(card) >= CARD_FIELDS
    assert card["steps"] == 3 and card["config"]["source"] == "subset"
    assert [entry["step"] for entry in card["history"]] == [2, 3]
    weights = load_file(str(tmp_path / card["weights"]))
    assert weights and all(t.isfinite().all() for t in weights.values())


def test_unknown_dataset_is_refused(capsys):
    with pytest.raises(SystemExit):
        train.parse(["evaluator", "--dataset", "cifar10"])
    assert "trains on mnist, fashion" in capsys.readouterr().err
