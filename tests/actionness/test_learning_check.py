"""actionness train says when its defaults did not learn (loss stuck at ln 2)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from typer.testing import CliRunner

from instructvid.actionness.learning_check import not_learning
from instructvid.cli.main import app

runner = CliRunner()


def test_not_learning_recognises_a_loss_stuck_at_chance() -> None:
    stuck = [{"loss": 0.6927, "accuracy": 0.51}, {"loss": 0.6920, "accuracy": 0.55}]
    learning = [{"loss": 0.6927, "accuracy": 0.51}, {"loss": 0.52, "accuracy": 0.75}]
    low_start = [{"loss": 0.40, "accuracy": 0.8}, {"loss": 0.40, "accuracy": 0.8}]
    assert "0.6927 → 0.6920" in not_learning(stuck)
    assert not_learning(learning) is None
    assert not_learning(low_start) is None  # flat but far below chance: it did learn
    assert not_learning(stuck[:1]) is None
    assert not_learning([{"loss": math.nan}, {"loss": math.nan}]) is None


def test_defaults_on_the_synthetic_world_warn(tmp_path: Path) -> None:
    world, run = tmp_path / "w", tmp_path / "run"
    r = runner.invoke(app, ["actionness", "synth", "--out", str(world), "--size", "tiny"])
    assert r.exit_code == 0, r.output
    args = ["actionness", "train", "--features", str(world / "features")]
    args += ["--annotations", str(world / "annotations.json"), "--out", str(run)]
    r = runner.invoke(app, [*args, "--epochs", "3"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    history = json.loads((run / "train.json").read_text())["history"]
    assert abs(history[-1]["loss"] - math.log(2)) < 0.02
    assert "warning:" in r.output and "--sequences-per-video 200 --lr 1e-3" in r.output
