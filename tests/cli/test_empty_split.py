"""A split that leaves a task nothing to test is refused before any work (never a NaN result)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.io.crosstask import CrossTaskData
from instructvid.steps.benchmark.protocol import make_splits
from instructvid.steps.benchmark.split_check import check_splits, largest_n_train
from tests.worlds import random_world

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::instructvid.io.crosstask.SegmentClippedWarning")


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small") / "W"
    result = runner.invoke(app, ["synth", "crosstask", "--out", str(root), "--size", "small"])
    assert result.exit_code == 0, result.output
    return root


def test_readme_benchmark_on_the_small_world_is_a_clear_error(
    small_world: Path, tmp_path: Path
) -> None:
    out = tmp_path / "B"
    args = ["steps", "benchmark", str(small_world), "--out", str(out), "--splits", "2"]
    result = runner.invoke(app, [*args, "--methods", "uniform,task", "--n-train", "30"])
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert "Make Pancakes" in result.output and "87706" in result.output
    assert "16 video(s) outside the validation set" in result.output
    assert "largest --n-train that leaves every task a test video is 15" in result.output
    assert not out.exists()  # checked before any work
    # The largest n-train named works and every task gets a finite recall.
    result = runner.invoke(app, [*args, "--methods", "uniform", "--n-train", "15"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "uniform.json").read_text())
    assert len(summary["per_task"]) == 6
    assert summary["mean"] is not None and summary["n_videos"] >= 6
    assert "nan" not in (out / "results.md").read_text()


def test_train_refuses_a_split_without_test_videos(tmp_path: Path) -> None:
    root = random_world(tmp_path / "data", n_videos=12, n_val=2)
    out = tmp_path / "RUN"
    result = runner.invoke(app, ["steps", "train", str(root), "--out", str(out), "--n-train", "10"])
    assert result.exit_code == 2, result.output
    assert "Make Tea" in result.output and "Jack Up Car" in result.output
    assert "is 9" in result.output
    assert not out.exists()


def test_evaluate_with_no_test_video_exits_nonzero(tmp_path: Path) -> None:
    root = random_world(tmp_path / "data", n_videos=12, n_val=2)
    out = tmp_path / "RUN"
    train = ["steps", "train", str(root), "--out", str(out), "--n-train", "6", "--share", "task"]
    result = runner.invoke(app, [*train, "--epochs-init", "1", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["steps", "evaluate", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Make Tea" in result.output and "10" in result.output  # names and ids
    split = json.loads((out / "split.json").read_text())
    split["test"] = {t: [] for t in split["test"]}
    (out / "split.json").write_text(json.dumps(split))
    result = runner.invoke(app, ["steps", "evaluate", str(out)])
    assert result.exit_code == 2, result.output
    assert "no test video" in result.output
    assert "nan" not in result.output.lower()


def test_largest_n_train_always_leaves_a_test_video(tmp_path: Path) -> None:
    root = random_world(tmp_path / "data", n_videos=9, n_val=3)
    data = CrossTaskData.open(root)
    best = largest_n_train(data)
    assert best == 5
    for seed in range(5):
        check_splits(data, make_splits(data, n_splits=3, n_train=best, seed=seed), best)
    with pytest.raises(ValueError, match="no test video"):
        check_splits(data, make_splits(data, n_splits=1, n_train=best + 1), best + 1)
