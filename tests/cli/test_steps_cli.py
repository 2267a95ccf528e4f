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
    assert payload["order_definition"] == "lis"
    assert payload["totals"]["primary_videos"] == 24 and payload["totals"]["related_videos"] == 1
    assert "primary videos: 24" in result.output and "(paper: 2,763, 213 h)" in result.output
    assert "longest in-order subsequence" in result.output
    pairwise = runner.invoke(
        app, ["steps", "stats", str(root), "--order", "pairwise"], env={"COLUMNS": "250"}
    )
    assert pairwise.exit_code == 0 and "pairs of annotated steps in task order" in pairwise.output
    bad = runner.invoke(app, ["steps", "stats", str(root), "--order", "kendall"])
    assert bad.exit_code == 2 and "lis, pairwise" in bad.output


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
def test_long_commands_stop_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int
) -> None:
    from instructvid.steps.benchmark import tune

    def fails(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(tune, "tune", fails)
    root = random_world(tmp_path / "data")
    result = runner.invoke(app, ["steps", "tune", str(root), "--out", str(tmp_path / "t")])
    assert result.exit_code == code, result.output
    expected = "bad grid" if code == 2 else "rerun the same command to resume"
    assert expected in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------------------------
# Actionness (eq. 4.4) and external step scores


def _actionness_model(path: Path, w) -> Path:
    """An actionness model file whose S(x) = w·x (saved like `actionness train` does)."""
    import torch

    from instructvid.actionness.config import TrainConfig
    from instructvid.actionness.model import ActionnessModel
    from instructvid.actionness.model_io import save_model

    model = ActionnessModel(len(w))
    with torch.no_grad():
        model.weight[0] = torch.as_tensor(w, dtype=torch.float32)
    return save_model(path, model, TrainConfig())


def test_localize_step_scores_with_actionness(tmp_path: Path) -> None:
    import numpy as np

    from instructvid.align.dp import ordered_assignment

    rng = np.random.default_rng(0)
    f = rng.normal(size=(25, 3))
    s = rng.normal(size=25) * 3
    np.save(tmp_path / "f.npy", f)
    np.save(tmp_path / "s.npy", s)
    base = ["steps", "localize", "--step-scores", str(tmp_path / "f.npy"), "--steps", "a,b,c"]
    out = tmp_path / "loc.json"
    result = runner.invoke(
        app,
        [*base, "--actionness", str(tmp_path / "s.npy"), "--alpha", "0.6", "--json", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    hand = ordered_assignment(0.4 * f + 0.6 * s[:, None]).argmax(axis=0).tolist()
    plain = ordered_assignment(f).argmax(axis=0).tolist()
    assert hand != plain  # actionness moved at least one step
    assert [r["second"] for r in payload["steps"]] == hand
    assert [r["step"] for r in payload["steps"]] == ["a", "b", "c"]
    assert payload["alpha"] == 0.6 and payload["actionness"] == str(tmp_path / "s.npy")
    assert payload["run"] is None and payload["step_scores"] == str(tmp_path / "f.npy")
    assert [r["actionness"] for r in payload["steps"]] == [float(s[t]) for t in hand]
    assert [r["score"] for r in payload["steps"]] == [float(f[t, k]) for k, t in enumerate(hand)]
    assert "α = 0.6" in result.output

    result = runner.invoke(app, ["steps", "localize", "--step-scores", str(tmp_path / "f.npy")])
    assert result.exit_code == 0, result.output
    default = json.loads((tmp_path / "f.localize.json").read_text())  # beside the scores
    assert [r["second"] for r in default["steps"]] == plain
    assert [r["step"] for r in default["steps"]] == ["step 1", "step 2", "step 3"]
    assert default["alpha"] is None and default["actionness"] is None

    # Errors: exit 2 with a message naming the problem (and the file).
    result = runner.invoke(app, [*base, "--actionness", str(tmp_path / "s.npy")])
    assert result.exit_code == 2 and "needs --alpha" in result.output
    result = runner.invoke(app, [*base[:2], str(tmp_path), *base[2:]])
    assert result.exit_code == 2 and "exactly one of RUN or --step-scores" in result.output
    result = runner.invoke(app, [*base[:-1], "a,b"], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "f.npy" in result.output and "2 steps" in result.output
    np.save(tmp_path / "short.npy", s[:20])
    result = runner.invoke(
        app,
        [*base, "--actionness", str(tmp_path / "short.npy"), "--alpha", "0.5"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2
    assert "short.npy" in result.output and "20 seconds but the video has 25" in result.output
    result = runner.invoke(app, [*base[:4], "--task", "10"], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "--data" in result.output


def test_localize_run_with_actionness_file_and_model(tmp_path: Path) -> None:
    import numpy as np

    from instructvid.io.crosstask import write_features

    root = _planted(tmp_path)
    run = tmp_path / "run"
    args = ["steps", "train", str(root), "--out", str(run), "--n-train", "6", "--device", "cpu"]
    assert runner.invoke(app, [*args, *SMALL]).exit_code == 0
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 16))
    write_features(tmp_path / "new.npy", x)
    s = rng.normal(size=30)
    np.save(tmp_path / "s.npy", s)
    base = ["steps", "localize", str(run), "--features", str(tmp_path / "new.npy")]
    base += ["--steps", "pour milk,whisk egg"]
    result = runner.invoke(app, [*base, "--actionness", str(tmp_path / "s.npy"), "--alpha", "1"])
    assert result.exit_code == 0, result.output
    payload = json.loads((run / "localize" / "new.json").read_text())
    # alpha = 1: the steps sit on the two highest-actionness seconds, in order.
    assert [r["second"] for r in payload["steps"]] == sorted(np.argsort(s)[-2:].tolist())
    assert payload["alpha"] == 1.0 and "log_prob" in payload["steps"][0]
    w = rng.normal(size=16)
    model = _actionness_model(tmp_path / "act" / "model.pt", w)
    result = runner.invoke(app, [*base, "--actionness", str(model.parent), "--alpha", "1"])
    assert result.exit_code == 0, result.output
    payload = json.loads((run / "localize" / "new.json").read_text())
    expected = sorted(np.argsort(x.astype(np.float32) @ w.astype(np.float32))[-2:].tolist())
    assert [r["second"] for r in payload["steps"]] == expected
    assert payload["actionness"] == f"model {model.parent}"


def test_run_actionness_source_tells_a_model_from_a_folder(tmp_path: Path) -> None:
    """`steps run --actionness`: a model scores features (S = w·x), a folder is passed on,
    anything else is a clear error naming the path."""
    import numpy as np

    from instructvid.cli.steps.actionness import actionness_source

    rng = np.random.default_rng(3)
    w = rng.normal(size=5)
    model = _actionness_model(tmp_path / "act" / "model.pt", w)
    x = rng.normal(size=(12, 5))
    for given in (model, model.parent):
        score = actionness_source(given)
        assert callable(score)
        assert np.allclose(score(x), x @ w, atol=1e-4)
    folder = tmp_path / "scores"
    folder.mkdir()
    assert actionness_source(folder) == folder
    with pytest.raises(ValueError, match=r"--actionness: .*missing not found"):
        actionness_source(tmp_path / "missing")
    other = tmp_path / "s.npy"
    np.save(other, np.zeros(3))
    with pytest.raises(ValueError, match="neither an actionness model"):
        actionness_source(other)


def test_benchmark_actionness_and_step_score_flags(tmp_path: Path) -> None:
    import numpy as np

    from instructvid.io.crosstask import CrossTaskData
    from instructvid.io.scores import ActionnessDir, StepScoresDir
    from instructvid.steps.benchmark.registry import default_registry

    root = random_world(tmp_path / "data")
    data = CrossTaskData.open(root)
    act = ActionnessDir(tmp_path / "act", create=True)
    ext = StepScoresDir(tmp_path / "emb", create=True)
    rng = np.random.default_rng(0)
    for task_id, vid in data.iter_videos(data.primary):
        gt = data.ground_truth(task_id, vid)
        act.write(vid, gt.any(axis=1) + rng.normal(0, 0.3, gt.shape[0]))
        ext.write(task_id, vid, rng.normal(size=gt.shape))
    out = tmp_path / "bench"
    args = ["steps", "benchmark", str(root), "--out", str(out), "--methods", "uniform,random"]
    args += ["--splits", "2", "--n-train", "4"]
    result = runner.invoke(
        app,
        [*args, "--actionness", str(act.root), "--step-scores", f"emb={ext.root}"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "emb" not in default_registry()  # the command added it to its own copy
    for name in ("random", "random+actionness", "emb", "emb+actionness", "uniform"):
        assert (out / f"{name}.json").is_file(), name
    assert not (out / "uniform+actionness.json").exists()
    assert "actionness does not apply: uniform" in result.output
    ax = json.loads((out / "random+actionness.json").read_text())
    plain = json.loads((out / "random.json").read_text())
    assert ax["mean"] > plain["mean"] and len(ax["alpha"]["per_split"]) == 2
    assert ax["actionness"]["source"]["path"] == str(act.root.resolve())
    markdown = (out / "results.md").read_text()
    assert "With actionness (eq. 4.4" in markdown and "| emb |" in markdown

    result = runner.invoke(app, [*args, "--alpha", "0.5"])
    assert result.exit_code == 2 and "give both" in result.output
    result = runner.invoke(app, [*args, "--actionness", str(act.root), "--alpha", "2"])
    assert result.exit_code == 2 and "alpha must be in [0, 1]" in result.output
    result = runner.invoke(app, [*args, "--step-scores", "emb"])
    assert result.exit_code == 2 and "NAME=DIR" in result.output


def test_benchmark_scores_and_caches_with_an_actionness_model(tmp_path: Path) -> None:
    from tests.steps.planted import prototypes

    root = _planted(tmp_path)
    model = _actionness_model(tmp_path / "act" / "model.pt", -prototypes(16)["<background>"])
    out = tmp_path / "bench"
    args = ["steps", "benchmark", str(root), "--out", str(out), "--methods", "random"]
    args += ["--splits", "1", "--n-train", "6", "--actionness", str(model)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    folders = [p for p in (out / "actionness").iterdir() if p.is_dir()]
    assert len(folders) == 1
    cached = sorted(folders[0].glob("*.npy"))
    assert len(cached) == 16 + 4  # 2 × (16 − 2 val − 6 train) test videos, 2 × 2 validation
    stamps = [p.stat().st_mtime_ns for p in cached]
    identity = json.loads((folders[0] / "identity.json").read_text())
    assert identity["model"]["file"] == str(model.resolve()) and identity["clip_seconds"] == 1
    ax = json.loads((out / "random+actionness.json").read_text())
    assert ax["mean"] > json.loads((out / "random.json").read_text())["mean"]
    assert ax["actionness"]["source"]["kind"] == "computed"
    # A new --alpha recomputes the split from the cached arrays (none is scored again).
    result = runner.invoke(app, [*args, "--alpha", "0.5"])
    assert result.exit_code == 0, result.output
    assert [p.stat().st_mtime_ns for p in sorted(folders[0].glob("*.npy"))] == stamps
    assert json.loads((out / "random+actionness.json").read_text())["alpha"]["per_split"] == [0.5]
