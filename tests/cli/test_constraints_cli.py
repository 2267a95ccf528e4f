"""``steps constraints | constraints-eval | train-text`` through a fresh typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from instructvid.cli.steps.constraints import register
from instructvid.synth.crosstask.generate import generate_crosstask

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from flattening the app
        pass

    return app


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_crosstask(tmp_path_factory.mktemp("w") / "tiny", size="tiny", seed=0)


def test_constraints_command_writes_csvs_and_resumes(
    app: typer.Typer, world: Path, tmp_path: Path
) -> None:
    args = ["constraints", str(world), "--subtitles", str(world / "subtitles")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "c"), "--text", "tfidf"])
    assert result.exit_code == 0, result.output
    assert "threshold" in result.output and "constraint files" in result.output
    assert len(list((tmp_path / "c").glob("*.csv"))) == 36
    config = json.loads((tmp_path / "c" / "config.json").read_text())
    assert config["status"] == "done" and config["text"] == "tfidf"
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "c"), "--threshold", "0.3"])
    assert again.exit_code == 0, again.output
    assert "0.3000 (given)" in again.output
    bad = runner.invoke(app, [*args, "--out", str(tmp_path / "d"), "--text", "bogus"])
    assert bad.exit_code == 2 and "unknown --text" in bad.output
    learned = runner.invoke(app, [*args, "--out", str(tmp_path / "e"), "--text", "learned"])
    assert learned.exit_code == 2 and "--text-model" in learned.output


def test_train_text_then_eval_side_by_side(app: typer.Typer, world: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    trained = runner.invoke(
        app,
        ["train-text", "--from-tasks", str(world), "--out", str(model), "--epochs", "2",
         "--dim", "16", "--word-dim", "16"],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "triplet loss" in trained.output and (model / "paragraphs.txt").is_file()
    out = tmp_path / "eval"
    result = runner.invoke(
        app,
        ["constraints-eval", str(world), "--subtitles", str(world / "subtitles"), "--out",
         str(out), "--text", "tfidf,learned", "--text-model", str(model), "--draws", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "constraints_eval.json").read_text())
    names = [row["method"] for row in report["table"]]
    assert names == ["tfidf", "random (tfidf)", "learned", "random (learned)", "released"]
    assert report["methods"]["tfidf"]["metric"] == "constraint_quality"
    assert set(report["methods"]["tfidf"]["mean"]) >= {"precision", "recall", "f1", "iou"}
    markdown = (out / "constraints_eval.md").read_text()
    assert "| tfidf |" in markdown and "Table A.1" in markdown
    assert "random (tfidf)" in result.output
    missing = runner.invoke(app, ["train-text", "--out", str(tmp_path / "m2")])
    assert missing.exit_code == 2 and "PARAGRAPHS" in missing.output
