"""Evaluation end to end: real COIN annotations (when present), a synthetic world, CrossTask."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from instructvid.actionness.eval.evaluate import evaluate_methods
from instructvid.actionness.eval.methods import baseline_sources, scores_dir_source
from instructvid.actionness.eval.sets import coin_eval_set, crosstask_eval_set
from instructvid.cli.main import app
from tests.worlds import random_world

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _coin_file() -> Path | None:
    env = os.environ.get("INSTRUCTVID_COIN")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "data" / "coin")
    for c in candidates:
        path = c / "COIN_annotations.json" if c.is_dir() else c
        if path.is_file():
            return path
    return None


COIN = _coin_file()


@pytest.mark.skipif(
    COIN is None, reason="real COIN annotations not available (set INSTRUCTVID_COIN)"
)
def test_coin_chance_and_trim_reproduce_the_data_readme(tmp_path: Path) -> None:
    assert COIN is not None
    es = coin_eval_set(COIN, subset="testing")
    assert len(es.videos) == 2580
    res = evaluate_methods(
        es, tmp_path, sources=baseline_sources(["chance", "trim0.3"], seed=0), proposals=False
    )
    chance, trim = res["chance"].frame, res["trim0.3"].frame
    assert chance is not None and trim is not None
    # shared/data/README.md: pooled 41.5 % / 49.3 %, per video 43.3 % / 54.2 %.
    assert abs(100 * chance.pooled - 41.5) <= 1.0
    assert abs(100 * trim.pooled - 49.3) <= 1.0
    assert abs(100 * chance.per_video_mean - 43.3) <= 1.0
    assert abs(100 * trim.per_video_mean - 54.2) <= 1.0
    assert abs(chance.pooled - chance.positive_fraction) < 0.01  # chance AP ~ action fraction
    record = json.loads((tmp_path / "trim0.3.json").read_text())
    assert record["metric"] == "frame_ap" and record["method"] == "trim0.3"
    assert record["mean"] == pytest.approx(trim.pooled)


def test_synthetic_world_learned_beats_trimmed_chance(tmp_path: Path) -> None:
    world, run, out = tmp_path / "w", tmp_path / "run", tmp_path / "eval"
    r = runner.invoke(
        app, ["actionness", "synth", "--out", str(world), "--size", "tiny", "--seed", "0"]
    )
    assert r.exit_code == 0, r.output
    ann, feats = world / "annotations.json", world / "features"
    train = [
        "actionness",
        "train",
        "--features",
        str(feats),
        "--annotations",
        str(ann),
        "--out",
        str(run),
        "--range",
        "60",
        "--epochs",
        "8",
        "--sequences-per-video",
        "100",
        "--lr",
        "3e-3",
        "--batch-size",
        "256",
    ]
    r = runner.invoke(app, train)
    assert r.exit_code == 0, r.output
    assert (run / "model.pt").is_file() and (run / "checkpoint.pt").is_file()
    history = json.loads((run / "train.json").read_text())["history"]
    assert len(history) == 8 and history[-1]["accuracy"] > 0.6
    r = runner.invoke(
        app,
        [
            "actionness",
            "score",
            "--model",
            str(run),
            "--features",
            str(feats),
            "--out",
            str(tmp_path / "scores"),
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "actionness",
            "proposals",
            "--scores",
            str(tmp_path / "scores"),
            "--annotations",
            str(ann),
            "--out",
            str(tmp_path / "p.json"),
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "actionness",
            "evaluate",
            "--annotations",
            str(ann),
            "--features",
            str(feats),
            "--baselines",
            "chance,trim0.3,prior,supervised",
            "--model",
            str(run),
            "--proposals",
            str(tmp_path / "p.json"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    learned = json.loads((out / "learned.json").read_text())
    trim = json.loads((out / "trim0.3.json").read_text())
    chance = json.loads((out / "chance.json").read_text())
    assert learned["metric"] == "frame_ap" and set(learned) >= {"method", "mean", "per_video_mean"}
    assert learned["mean"] > trim["mean"] > chance["mean"]
    props = json.loads((out / "learned.proposals.json").read_text())
    assert props["metric"] == "ar_an_auc" and set(props["ar_at"]) == {"1", "5", "10", "100"}
    assert 0 <= props["mean"] <= 1
    assert props["mean"] > json.loads((out / "trim0.3.proposals.json").read_text())["mean"]
    # Proposals written by 'proposals' from the scored files are the learned model's proposals.
    from_file = json.loads((out / "p.proposals.json").read_text())
    assert from_file["mean"] == pytest.approx(props["mean"], abs=0.01)
    for name in (
        "results.md",
        "ar_an.png",
        "score_vs_time.png",
        "prior.proposals.json",
        "supervised.json",
    ):
        assert (out / name).is_file(), name
    assert "| learned |" in (out / "results.md").read_text()


def test_crosstask_split_and_evaluation(tmp_path: Path) -> None:
    data = random_world(tmp_path / "ct", n_videos=12)
    es = crosstask_eval_set(data, seed=3)
    assert len(es.videos) + len(es.train) == 24
    assert len(es.videos) == round(24 * 688 / 2750)
    assert not set(es.videos) & set(es.train)
    assert set(crosstask_eval_set(data, seed=3).videos) == set(es.videos)
    assert set(crosstask_eval_set(data, seed=4).videos) != set(es.videos)
    v = next(iter(es.videos.values()))
    assert v.duration == np.load(data / "crosstask_features" / f"{v.video_id}.npy").shape[0]
    r = runner.invoke(
        app,
        [
            "actionness",
            "evaluate",
            "--crosstask",
            str(data),
            "--baselines",
            "chance,trim0.2,prior",
            "--out",
            str(tmp_path / "e"),
            "--seed",
            "3",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "e" / "trim0.2.json").read_text())["method"] == "trim0.2"


def test_errors_are_clear(tmp_path: Path) -> None:
    data = random_world(tmp_path / "ct", n_videos=6)
    es = crosstask_eval_set(data)
    (tmp_path / "scores").mkdir()
    with pytest.raises(FileNotFoundError, match=r"scores/.*\.npy: no per-second scores for video"):
        evaluate_methods(es, tmp_path / "e", sources=[scores_dir_source(tmp_path / "scores")])
    with pytest.raises(ValueError, match="trim<fraction>"):
        baseline_sources(["trimx"])
    r = runner.invoke(
        app, ["actionness", "evaluate", "--out", str(tmp_path / "e"), "--baselines", "chance"]
    )
    assert r.exit_code != 0 and "exactly one of --annotations and --crosstask" in r.output
    # Training on evaluation videos is refused with a clear message.
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(sorted(es.videos)))
    r = runner.invoke(
        app,
        [
            "actionness",
            "train",
            "--features",
            str(data / "crosstask_features"),
            "--crosstask",
            str(data),
            "--videos",
            str(ids),
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert r.exit_code == 2
    assert "are also in the CrossTask test split" in r.output


def test_help_lists_commands_and_options() -> None:
    r = runner.invoke(app, ["actionness", "--help"])
    assert r.exit_code == 0
    for name in ("train", "evaluate", "proposals", "sweep", "score", "synth"):
        assert name in r.output
    r = runner.invoke(app, ["actionness", "train", "--help"])
    for option in ("--range", "--clips", "--trim", "--device", "--equal-categories"):
        assert option in r.output
