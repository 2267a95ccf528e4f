"""The ``instructvid steps`` commands: exit codes, files written, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from instructvid.cli.main import app
from tests.worlds import mini_dataset, random_world

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::instructvid.io.crosstask.SegmentClippedWarning")


def test_help_lists_commands_and_explains_options() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "steps", "synth"):
        assert name in result.output
    result = runner.invoke(app, ["steps", "benchmark", "--help"])
    assert result.exit_code == 0
    for option in ("--methods", "--splits", "--n-train", "--seed", "--release"):
        assert option in result.output


def test_check_clean_and_broken(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path)
    result = runner.invoke(app, ["steps", "check", str(root)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    (root / "crosstask_release" / "annotations" / "1_a.csv").write_text("5,1,2\n1,3,2\n")
    result = runner.invoke(app, ["steps", "check", str(root)])
    assert result.exit_code == 1
    assert "line 1" in result.output and "line 2" in result.output
    assert "2 error(s)" in result.output


def test_check_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["steps", "check", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "release folder not found" in result.output


def test_stats_writes_json(tmp_path: Path) -> None:
    root = random_world(tmp_path / "data")
    out = tmp_path / "stats.json"
    result = runner.invoke(
        app, ["steps", "stats", str(root), "--json", str(out)], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert {r["task_id"] for r in payload["per_task"]} == {"10", "20"}
    assert payload["total"]["n_videos"] == 24
    assert "Jack Up Car" in result.output  # a paper task: printed with the paper's value


def test_benchmark_writes_contract_files(tmp_path: Path) -> None:
    root = random_world(tmp_path / "data")
    out = tmp_path / "bench"
    args = ["steps", "benchmark", str(root), "--out", str(out), "--methods", "uniform,random"]
    result = runner.invoke(app, [*args, "--splits", "2", "--n-train", "4"])
    assert result.exit_code == 0, result.output
    for name in ("uniform.json", "random.json", "results.md", "recall.png"):
        assert (out / name).is_file()
    uniform = json.loads((out / "uniform.json").read_text())
    assert uniform["n_splits"] == 2 and "std" in uniform and len(uniform["per_split"]) == 2
    assert "uniform (paper)" in (out / "results.md").read_text()


def test_benchmark_unknown_method(tmp_path: Path) -> None:
    root = random_world(tmp_path / "data")
    args = ["steps", "benchmark", str(root), "--out", str(tmp_path / "b"), "--methods", "magic"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "unknown method" in result.output
