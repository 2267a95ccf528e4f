"""Eq. 4.4 in the benchmark: α on validation, ``<method>+actionness`` rows, caches, sources."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from instructvid.align.combine import localize_with_actionness
from instructvid.io.crosstask import (
    CrossTaskData,
    Segment,
    Task,
    VideoEntry,
    write_features,
    write_segments,
    write_task_cards,
    write_video_list,
)
from instructvid.io.scores import ActionnessDir, ScoreFileError, StepScoresDir
from instructvid.steps.benchmark.actionness import (
    ActionnessSettings,
    ComputedActionness,
    FolderActionness,
    actionness_result,
)
from instructvid.steps.benchmark.external import with_step_scores
from instructvid.steps.benchmark.protocol import make_splits, predict_split, run_benchmark
from instructvid.steps.benchmark.registry import default_registry
from instructvid.steps.benchmark.types import MethodOptions
from tests.steps.test_external import spy
from tests.worlds import random_world

pytestmark = pytest.mark.filterwarnings("ignore::instructvid.io.crosstask.SegmentClippedWarning")


def background_world(root: Path, *, n_videos: int = 8, n_val: int = 2, seed: int = 0) -> Path:
    """One task, two steps of 3 s; step scores that prefer the 3 s of background *before* each
    step (a model that does not know background) and actionness that marks the steps.

    Writes DATA under ``root/data``, step scores under ``root/scores`` and actionness under
    ``root/act``.
    """
    rng = np.random.default_rng(seed)
    data, n_frames = root / "data", 20
    release = data / "crosstask_release"
    write_task_cards(
        release / "tasks_primary.txt", [Task("1", "Make Tea", "u", ("boil water", "add tea"))]
    )
    scores = StepScoresDir(root / "scores", create=True)
    act = ActionnessDir(root / "act", create=True)
    entries, val = [], []
    for i in range(n_videos):
        vid = f"v{i}"
        entries.append(VideoEntry("1", vid))
        if i < n_val:
            val.append(VideoEntry("1", vid))
        starts = [int(rng.integers(3, 6)), int(rng.integers(12, 15))]  # 3 s of background
        write_segments(
            release / "annotations" / f"1_{vid}.csv",
            [Segment(k + 1, float(s), float(s + 3)) for k, s in enumerate(starts)],
        )
        write_features(data / "crosstask_features" / f"{vid}.npy", np.zeros((n_frames, 2)))
        f = np.full((n_frames, 2), -1.0) + 0.01 * rng.random((n_frames, 2))
        s = 0.05 * rng.random(n_frames)
        for k, start in enumerate(starts):
            f[start - 3 : start, k] += 0.8  # background just before the step scores highest
            f[start : start + 3, k] += 0.5  # the step itself a little less
            s[start : start + 3] += 1.0
        scores.write("1", vid, f)
        act.write(vid, s)
    write_video_list(release / "videos.csv", entries)
    write_video_list(release / "videos_val.csv", val)
    return data


def test_actionness_fixes_background_and_alpha_is_chosen_on_validation(tmp_path: Path) -> None:
    data = CrossTaskData.open(background_world(tmp_path))
    registry = with_step_scores(default_registry(), "bg-scores", tmp_path / "scores")
    settings = ActionnessSettings(FolderActionness(tmp_path / "act"))
    out = tmp_path / "bench"
    summary = run_benchmark(
        data,
        out,
        methods=["bg-scores"],
        n_splits=2,
        n_train=2,
        actionness=settings,
        registry=registry,
    )
    plain, ax = summary["bg-scores"], summary["bg-scores+actionness"]
    assert plain["mean"] == 0.0  # every step is placed on the background before it
    assert ax["mean"] == 1.0
    # Chosen on the 2 validation videos: alpha = 0 finds nothing, the smallest alpha that
    # lets actionness win (here 0.3: 1.3 alpha > 0.3) finds every step.
    assert ax["alpha"]["per_split"] == [0.3, 0.3] and ax["alpha"]["chosen_on"] == "validation"
    assert ax["val_recall"]["0"] == 0.0 and ax["val_recall"]["0.2"] == 0.0
    assert ax["val_recall"]["0.3"] == 1.0 and ax["n_val_videos"] == 2
    written = json.loads((out / "bg-scores+actionness.json").read_text())
    assert {"metric", "per_task", "mean", "std", "n_videos", "method"} <= set(written)
    assert written["method"] == "bg-scores+actionness" and written["base_method"] == "bg-scores"
    assert written["metric"] == "recall" and written["n_videos"] == 4
    assert written["actionness"]["source"]["kind"] == "folder"
    assert written["per_split"][0]["val_recall"]["1"] == 1.0
    # alpha = 0 reproduces the method's own results exactly.
    zero = ActionnessSettings(FolderActionness(tmp_path / "act"), alpha=0.0)
    summary = run_benchmark(
        data,
        tmp_path / "b0",
        methods=["bg-scores"],
        n_splits=2,
        n_train=2,
        actionness=zero,
        registry=registry,
    )
    assert summary["bg-scores+actionness"]["mean"] == 0.0
    assert summary["bg-scores+actionness"]["alpha"]["chosen_on"] == "fixed"
    assert "val_recall" not in summary["bg-scores+actionness"]


def test_alpha_zero_gives_exactly_the_methods_labels(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path))
    split = make_splits(data, n_splits=1, n_train=4)[0]
    preds = predict_split(data, split, "random")
    rng = np.random.default_rng(5)
    for task_id, by_vid in preds.scores.items():  # type: ignore[union-attr]
        for vid, f in by_vid.items():
            s = rng.normal(size=f.shape[0]) * 100
            np.testing.assert_array_equal(
                localize_with_actionness(f, s, 0.0), preds.labels[task_id][vid]
            )
            assert (
                not np.array_equal(localize_with_actionness(f, s, 1.0), preds.labels[task_id][vid])
                or f.shape[0] == f.shape[1]
            )  # (sanity: actionness does move labels)


def _informative_actionness(data: CrossTaskData, folder: Path, *, seed: int = 0) -> Path:
    """Ground truth (any step at that second) + Gaussian noise, for every annotated video."""
    act = ActionnessDir(folder, create=True)
    rng = np.random.default_rng(seed)
    for task_id, vid in data.iter_videos(data.primary):
        n = data.n_frames(vid)
        s = rng.normal(0, 0.3, n)
        if data.has_annotation(task_id, vid):
            s += data.ground_truth(task_id, vid).any(axis=1)
        act.write(vid, s)
    return folder


def test_benchmark_adds_actionness_rows_that_beat_the_method(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    settings = ActionnessSettings(FolderActionness(_informative_actionness(data, tmp_path / "a")))
    out = tmp_path / "bench"
    summary = run_benchmark(
        data, out, methods=["uniform", "random"], n_splits=3, n_train=4, actionness=settings
    )
    assert list(summary) == ["uniform", "random", "random+actionness"]
    assert not (out / "uniform+actionness.json").exists()  # no scores: does not apply
    plain, ax = summary["random"], summary["random+actionness"]
    assert ax["mean"] > plain["mean"] + 0.2
    assert all(0 < a <= 1 for a in ax["alpha"]["per_split"])
    assert len(ax["per_split"]) == 3 and ax["n_val_videos"] == 4  # 2 per primary task
    assert 0 <= ax["map"]["mean"] <= 1
    # The method's own file is what a benchmark without actionness writes.
    alone = run_benchmark(data, tmp_path / "alone", methods=["random"], n_splits=3, n_train=4)
    assert alone["random"]["per_split"] == plain["per_split"]


def test_cache_is_reused_and_invalidated_by_source_and_alpha(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    folder_a = _informative_actionness(data, tmp_path / "a", seed=0)
    folder_b = _informative_actionness(data, tmp_path / "b", seed=1)
    calls: list[int] = []
    registry = spy(default_registry(), "random", calls)
    out = tmp_path / "bench"

    def run(settings: ActionnessSettings | None) -> dict:
        return run_benchmark(
            data,
            out,
            methods=["random"],
            n_splits=2,
            n_train=4,
            actionness=settings,
            registry=registry,
        )

    first = run(ActionnessSettings(FolderActionness(folder_a)))
    assert calls == [0, 1]
    plain_cache = (out / "splits" / "random" / "split_00.json").read_bytes()
    again = run(ActionnessSettings(FolderActionness(folder_a)))
    assert calls == [0, 1]  # everything cached
    assert again["random+actionness"]["per_split"] == first["random+actionness"]["per_split"]
    fixed = run(ActionnessSettings(FolderActionness(folder_a), alpha=0.5))
    assert calls == [0, 1, 0, 1]  # another alpha: recomputed
    assert fixed["random+actionness"]["alpha"]["per_split"] == [0.5, 0.5]
    assert (out / "splits" / "random" / "split_00.json").read_bytes() == plain_cache
    run(ActionnessSettings(FolderActionness(folder_b), alpha=0.5))
    assert calls == [0, 1, 0, 1, 0, 1]  # another source: recomputed
    vid = make_splits(data, n_splits=1, n_train=4)[0].test["10"][0]
    ActionnessDir(folder_b).write(vid, -np.load(folder_b / f"{vid}.npy"))
    run(ActionnessSettings(FolderActionness(folder_b), alpha=0.5))
    assert calls == [0, 1, 0, 1, 0, 1, 0, 1]  # a rewritten file: recomputed
    run(None)
    assert len(calls) == 8  # the method's own cache never depended on actionness


def test_computed_actionness_is_cached_per_identity(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    seen: list[int] = []

    def score(x: np.ndarray) -> np.ndarray:
        seen.append(x.shape[0])
        return np.arange(x.shape[0], dtype=np.float64)

    source = ComputedActionness(score, tmp_path / "cache", {"model": "m1"})
    settings = ActionnessSettings(source)
    out = tmp_path / "bench"
    run_benchmark(data, out, methods=["random"], n_splits=2, n_train=4, actionness=settings)
    split_vids = {
        v
        for s in make_splits(data, n_splits=2, n_train=4)
        for vids in s.test.values()
        for v in vids
    }
    n_val = 4
    assert source.computed == len(split_vids) + n_val  # each needed video scored once
    files = {p.stem for p in source.dir.files()}
    assert split_vids <= files and len(files) == len(split_vids) + n_val
    assert json.loads((source.dir.root / "identity.json").read_text()) == {"model": "m1"}
    again = ComputedActionness(score, tmp_path / "cache", {"model": "m1"})
    assert again.dir.root == source.dir.root
    np.testing.assert_array_equal(again(data, "10v05"), np.arange(data.n_frames("10v05")))
    assert again.computed == 0  # read back from the cache
    other = ComputedActionness(score, tmp_path / "cache", {"model": "m2"})
    assert other.dir.root != source.dir.root and other.dir.files() == []
    bad = ComputedActionness(lambda x: np.zeros(3), tmp_path / "cache", {"model": "short"})
    with pytest.raises(ScoreFileError, match=r"actionness computed for video '10v05'.*has 3"):
        bad(data, "10v05")


def test_choosing_alpha_needs_validation_videos(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    settings = ActionnessSettings(FolderActionness(_informative_actionness(data, tmp_path / "a")))
    with pytest.raises(ValueError, match=r"no annotated validation video .*\(--alpha\)"):
        actionness_result(data, settings, {}, None)
    # The benchmark says so before running (training) any method.
    (tmp_path / "data" / "crosstask_release" / "videos_val.csv").write_text("")
    data = CrossTaskData.open(tmp_path / "data")
    with pytest.raises(ValueError, match=r"no annotated validation video .*\(--alpha\)"):
        run_benchmark(
            data, tmp_path / "b", methods=["random"], n_splits=1, n_train=5, actionness=settings
        )
    assert not (tmp_path / "b" / "splits").exists()
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        ActionnessSettings(settings.source, alpha=1.5)


def test_trained_method_scores_validation_without_changing_its_results(tmp_path: Path) -> None:
    from tests.steps.planted import planted_world

    data = CrossTaskData.open(planted_world(tmp_path / "data", n_videos=10, n_related=2))
    opts = MethodOptions(hyper={"epochs_init": 2, "epochs": 3, "batch_videos": 4, "lr": 0.05})
    act = ActionnessDir(tmp_path / "act", create=True)
    for task_id, vid in data.iter_videos(data.primary):
        act.write(vid, data.ground_truth(task_id, vid).any(axis=1).astype(float))
    settings = ActionnessSettings(FolderActionness(act.root))
    with_ax = run_benchmark(
        data, tmp_path / "b1", methods=["task"], n_splits=1, n_train=6, options=opts,
        actionness=settings,
    )  # fmt: skip
    alone = run_benchmark(
        data, tmp_path / "b2", methods=["task"], n_splits=1, n_train=6, options=opts
    )
    assert with_ax["task"]["per_split"] == alone["task"]["per_split"]
    ax = with_ax["task+actionness"]
    assert ax["n_val_videos"] == 4 and set(ax["val_recall"]) == {f"{a / 10:g}" for a in range(11)}
    assert ax["mean"] >= with_ax["task"]["mean"]
