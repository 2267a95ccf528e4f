"""External step scores as a benchmark method: labels = the DP on the files, cache keys."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from instructvid.align.dp import ordered_assignment
from instructvid.io.crosstask import CrossTaskData
from instructvid.io.scores import ScoreFileError, ScoreFileNotFoundError, StepScoresDir
from instructvid.metrics.recall import crosstask_recall
from instructvid.steps.benchmark.external import parse_step_scores_option, with_step_scores
from instructvid.steps.benchmark.protocol import make_splits, predict_split, run_benchmark
from instructvid.steps.benchmark.registry import MethodRegistry, default_registry
from tests.worlds import random_world

pytestmark = pytest.mark.filterwarnings("ignore::instructvid.io.crosstask.SegmentClippedWarning")


def write_scores(data: CrossTaskData, folder: Path, *, seed: int = 0) -> StepScoresDir:
    """Random (T, K) scores of every primary video; odd videos in the task sub-folder."""
    scores = StepScoresDir(folder, create=True)
    rng = np.random.default_rng(seed)
    for i, (task_id, vid) in enumerate(data.iter_videos(data.primary)):
        f = rng.normal(size=(data.n_frames(vid), data.task(task_id).n_steps))
        scores.write(task_id, vid, f, nested=bool(i % 2))
    return scores


def spy(registry: MethodRegistry, name: str, calls: list[int]) -> MethodRegistry:
    """``registry`` with method ``name`` recording the index of every split it runs on."""
    spec = registry[name]

    def predict(d, s, r, o):  # type: ignore[no-untyped-def]
        calls.append(s.index)
        return spec.predict(d, s, r, o)

    return registry.added(replace(spec, predict=predict), replace=True)


def test_external_method_is_the_dp_on_the_files(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    scores = write_scores(data, tmp_path / "s")
    registry = with_step_scores(default_registry(), "emb", scores.root)
    assert "emb" in registry.scoring()
    assert "emb" not in default_registry()  # added to a copy only
    split = make_splits(data, n_splits=1, n_train=4)[0]
    split = replace(split, val={"10": ["10v00", "10v01"]})
    preds = predict_split(data, split, "emb", registry=registry)
    hand = {}
    for task_id, vids in split.test.items():
        hand[task_id] = {}
        for vid in vids:
            path = scores.path(task_id, vid)
            assert path is not None
            f = np.load(path)
            hand[task_id][vid] = ordered_assignment(f, exactly_one=True, maximize=True)
            np.testing.assert_array_equal(preds.labels[task_id][vid], hand[task_id][vid])
            np.testing.assert_array_equal(preds.scores[task_id][vid], f)  # type: ignore[index]
    assert set(preds.val_scores) == {"10"}  # type: ignore[arg-type]
    assert set(preds.val_scores["10"]) == {"10v00", "10v01"}  # type: ignore[index]
    # The benchmark's recall is the recall of those labels.
    summary = run_benchmark(
        data, tmp_path / "b", methods=["emb"], n_splits=1, n_train=4, registry=registry
    )
    truth = {t: {v: data.ground_truth(t, v) for v in vids} for t, vids in split.test.items()}
    assert summary["emb"]["mean"] == pytest.approx(crosstask_recall(truth, hand).mean, abs=1e-12)
    assert summary["emb"]["settings"]["method"]["step_scores"] == str(scores.root.resolve())
    assert "map" in summary["emb"]


def test_rewritten_files_invalidate_the_cache(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    scores = write_scores(data, tmp_path / "s")
    calls: list[int] = []
    registry = spy(with_step_scores(default_registry(), "emb", scores.root), "emb", calls)
    kwargs = {"methods": ["emb"], "n_splits": 1, "n_train": 4, "registry": registry}
    first = run_benchmark(data, tmp_path / "b", **kwargs)
    run_benchmark(data, tmp_path / "b", **kwargs)
    assert calls == [0]  # same files: cached
    vid = make_splits(data, n_splits=1, n_train=4)[0].test["10"][0]
    path = scores.path("10", vid)
    assert path is not None
    scores.write("10", vid, np.load(path)[::-1].copy(), nested=path.parent.name == "10")
    second = run_benchmark(data, tmp_path / "b", **kwargs)
    assert calls == [0, 0]  # a rewritten file: recomputed
    assert first["emb"]["settings"]["method"] != second["emb"]["settings"]["method"]


def test_missing_or_malformed_files_name_the_file(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    scores = write_scores(data, tmp_path / "s")
    registry = with_step_scores(default_registry(), "emb", scores.root)
    split = make_splits(data, n_splits=1, n_train=4)[0]
    vid = split.test["20"][0]
    path = scores.path("20", vid)
    assert path is not None
    np.save(path, np.zeros((data.n_frames(vid), 5)))
    with pytest.raises(ScoreFileError, match=rf"{vid}\.npy: step scores have 5 columns .* 2 steps"):
        predict_split(data, split, "emb", registry=registry)
    path.unlink()
    with pytest.raises(ScoreFileNotFoundError, match=rf"20/{vid}\.npy: no step scores for video"):
        predict_split(data, split, "emb", registry=registry)


def test_names_are_checked(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    registry = default_registry()
    with pytest.raises(ValueError, match="built-in method"):
        with_step_scores(registry, "component", tmp_path / "s")
    with pytest.raises(ValueError, match="names the result files"):
        with_step_scores(registry, "a+b", tmp_path / "s")
    with pytest.raises(FileNotFoundError, match="step-score folder not found"):
        with_step_scores(registry, "emb", tmp_path / "nowhere")
    assert "emb" not in registry
    # An external name may be given again (the later folder wins); a built-in one may not.
    (tmp_path / "t").mkdir()
    twice = with_step_scores(
        with_step_scores(registry, "emb", tmp_path / "s"), "emb", tmp_path / "t"
    )
    assert twice["emb"].settings()["step_scores"] == str((tmp_path / "t").resolve())
    assert parse_step_scores_option("mil-nce=/x/y") == ("mil-nce", Path("/x/y"))
    with pytest.raises(ValueError, match="expected NAME=DIR"):
        parse_step_scores_option("/x/y")
