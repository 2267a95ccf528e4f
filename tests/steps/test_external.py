"""External step scores as a benchmark method: labels = the DP on the files, cache keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from instructvid.align.dp import ordered_assignment
from instructvid.io.crosstask import CrossTaskData
from instructvid.io.scores import ScoreFileError, ScoreFileNotFoundError, StepScoresDir
from instructvid.metrics.recall import crosstask_recall
from instructvid.steps.benchmark import protocol
from instructvid.steps.benchmark.external import (
    parse_step_scores_option,
    register_external,
    unregister_external,
)
from instructvid.steps.benchmark.protocol import make_splits, predict_split, run_benchmark
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


@pytest.fixture
def ext() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        unregister_external(name)


def test_external_method_is_the_dp_on_the_files(tmp_path: Path, ext: list[str]) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    scores = write_scores(data, tmp_path / "s")
    ext.append(register_external("emb", scores.root))
    assert "emb" in protocol.SCORING_METHODS
    split = make_splits(data, n_splits=1, n_train=4)[0]
    split = replace(split, val={"10": ["10v00", "10v01"]})
    preds = predict_split(data, split, "emb")
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
    summary = run_benchmark(data, tmp_path / "b", methods=["emb"], n_splits=1, n_train=4)
    truth = {t: {v: data.ground_truth(t, v) for v in vids} for t, vids in split.test.items()}
    assert summary["emb"]["mean"] == pytest.approx(crosstask_recall(truth, hand).mean, abs=1e-12)
    assert summary["emb"]["settings"]["method"]["step_scores"] == str(scores.root.resolve())
    assert "map" in summary["emb"]


def test_rewritten_files_invalidate_the_cache(tmp_path: Path, ext: list[str], monkeypatch) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    scores = write_scores(data, tmp_path / "s")
    ext.append(register_external("emb", scores.root))
    calls: list[int] = []
    original = protocol.METHODS["emb"]
    monkeypatch.setitem(
        protocol.METHODS, "emb", lambda d, s, r, o: calls.append(s.index) or original(d, s, r, o)
    )
    first = run_benchmark(data, tmp_path / "b", methods=["emb"], n_splits=1, n_train=4)
    run_benchmark(data, tmp_path / "b", methods=["emb"], n_splits=1, n_train=4)
    assert calls == [0]  # same files: cached
    vid = make_splits(data, n_splits=1, n_train=4)[0].test["10"][0]
    path = scores.path("10", vid)
    assert path is not None
    scores.write("10", vid, np.load(path)[::-1].copy(), nested=path.parent.name == "10")
    second = run_benchmark(data, tmp_path / "b", methods=["emb"], n_splits=1, n_train=4)
    assert calls == [0, 0]  # a rewritten file: recomputed
    assert first["emb"]["settings"]["method"] != second["emb"]["settings"]["method"]


def test_missing_or_malformed_files_name_the_file(tmp_path: Path, ext: list[str]) -> None:
    data = CrossTaskData.open(random_world(tmp_path / "data"))
    scores = write_scores(data, tmp_path / "s")
    ext.append(register_external("emb", scores.root))
    split = make_splits(data, n_splits=1, n_train=4)[0]
    vid = split.test["20"][0]
    path = scores.path("20", vid)
    assert path is not None
    np.save(path, np.zeros((data.n_frames(vid), 5)))
    with pytest.raises(ScoreFileError, match=rf"{vid}\.npy: step scores have 5 columns .* 2 steps"):
        predict_split(data, split, "emb")
    path.unlink()
    with pytest.raises(ScoreFileNotFoundError, match=rf"20/{vid}\.npy: no step scores for video"):
        predict_split(data, split, "emb")


def test_names_are_checked(tmp_path: Path, ext: list[str]) -> None:
    (tmp_path / "s").mkdir()
    with pytest.raises(ValueError, match="built-in method"):
        register_external("component", tmp_path / "s")
    with pytest.raises(ValueError, match="names the result files"):
        register_external("a+b", tmp_path / "s")
    with pytest.raises(FileNotFoundError, match="step-score folder not found"):
        register_external("emb", tmp_path / "nowhere")
    assert "emb" not in protocol.METHODS
    assert parse_step_scores_option("mil-nce=/x/y") == ("mil-nce", Path("/x/y"))
    with pytest.raises(ValueError, match="expected NAME=DIR"):
        parse_step_scores_option("/x/y")
