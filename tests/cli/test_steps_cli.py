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


# --------------------------------------------------------------------------------------------
# Trained step models: train, evaluate, localize, tune, transfer, benchmark methods

SMALL = ["--epochs-init", "4", "--epochs", "8", "--batch-videos", "4", "--lr", "0.05"]


def _planted(tmp_path: Path) -> Path:
    from tests.steps.planted import planted_world

    return planted_world(tmp_path / "data")


def test_train_evaluate_localize(tmp_path: Path) -> None:
    import numpy as np

    from instructvid.io.crosstask import write_features

    root = _planted(tmp_path)
    run = tmp_path / "run"
    args = ["steps", "train", str(root), "--out", str(run), "--n-train", "6", "--device", "cpu"]
    result = runner.invoke(app, [*args, *SMALL])
    assert result.exit_code == 0, result.output
    assert "trained 12 epochs" in result.output
    result = runner.invoke(app, [*args, *SMALL])
    assert result.exit_code == 0 and "already trained" in result.output
    result = runner.invoke(app, [*args, "--share", "task", *SMALL])
    assert result.exit_code == 2 and "other settings" in result.output

    out = tmp_path / "eval.json"
    result = runner.invoke(app, ["steps", "evaluate", str(run), "--json", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert {"metric", "per_task", "mean", "n_videos", "method"} <= set(payload)
    assert payload["metric"] == "recall" and 0 <= payload["mean"] <= 1

    feats = tmp_path / "new.npy"
    write_features(feats, np.random.default_rng(0).standard_normal((30, 16)))
    result = runner.invoke(
        app,
        ["steps", "localize", str(run), "--features", str(feats), "--steps", "pour milk,fry bacon"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "fri" in result.output and "bacon" in result.output  # unknown-word warning
    written = json.loads((run / "localize" / "new.json").read_text())
    assert [s["step"] for s in written["steps"]] == ["pour milk", "fry bacon"]
    assert written["unknown_words"] == ["bacon", "fri"]
    result = runner.invoke(app, ["steps", "localize", str(run), "--features", str(feats)])
    assert result.exit_code == 2 and "exactly one" in result.output


def test_train_option_errors(tmp_path: Path) -> None:
    root = _planted(tmp_path)
    base = ["steps", "train", str(root), "--out", str(tmp_path / "r")]
    result = runner.invoke(app, [*base, "--no-constraints", "--hard-constraints"])
    assert result.exit_code == 2 and "exclude each other" in result.output
    result = runner.invoke(app, [*base, "--share", "words"])
    assert result.exit_code == 2 and "component" in result.output
    result = runner.invoke(app, ["steps", "evaluate", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a run folder" in result.output


def test_benchmark_trained_methods_and_tune_and_transfer(tmp_path: Path) -> None:
    root = _planted(tmp_path)
    out = tmp_path / "bench"
    methods = "uniform,supervised,task,component,alayrac"
    args = ["steps", "benchmark", str(root), "--out", str(out), "--methods", methods]
    result = runner.invoke(
        app, [*args, "--splits", "2", "--n-train", "6", "--device", "cpu", *SMALL]
    )
    assert result.exit_code == 0, result.output
    summaries = {m: json.loads((out / f"{m}.json").read_text()) for m in methods.split(",")}
    for s in summaries.values():
        assert s["n_splits"] == 2 and len(s["per_split"]) == 2 and "std" in s
    assert summaries["supervised"]["mean"] > summaries["uniform"]["mean"]
    assert summaries["component"]["mean"] > summaries["uniform"]["mean"]
    assert summaries["component"]["settings"]["options"]["related"] is True
    assert "map" in summaries["component"]
    assert (out / "results.md").is_file() and (out / "recall.png").is_file()

    result = runner.invoke(
        app,
        ["steps", "tune", str(root), "--out", str(tmp_path / "tune"), "--method", "task",
         "--grid", "lr=0.01,0.05", "--n-train", "6", "--epochs-init", "2", "--epochs", "4"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tuned = json.loads((tmp_path / "tune" / "tune.json").read_text())
    assert len(tuned["points"]) == 2 and tuned["best"]["params"]["lr"] in (0.01, 0.05)
    assert tuned["n_val_videos"] == 4
    result = runner.invoke(app, ["steps", "tune", str(root), "--out", "x", "--grid", "speed=1"])
    assert result.exit_code == 2 and "unknown hyper-parameter" in result.output

    result = runner.invoke(
        app,
        ["steps", "transfer", str(root), "--out", str(tmp_path / "tr"), "--counts", "1,2",
         "--n-train", "6", *SMALL],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    curve = json.loads((tmp_path / "tr" / "transfer.json").read_text())
    assert curve["counts"] == [1, 2] and len(curve["mean"]) == 2
    assert {"uniform", "target"} <= set(curve)
    assert (tmp_path / "tr" / "transfer.png").is_file()


@pytest.mark.parametrize(
    ("error", "code"), [(ValueError("bad grid"), 2), (KeyboardInterrupt(), 130)]
)
def test_long_commands_stop_cleanly(error: BaseException, code: int) -> None:
    import typer

    from instructvid.cli.steps import _stop_cleanly

    with pytest.raises(typer.Exit) as info, _stop_cleanly():
        raise error
    assert info.value.exit_code == code
