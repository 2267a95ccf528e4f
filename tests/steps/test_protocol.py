"""The split protocol: seeded splits, validation videos never used, resumable benchmark."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.crosstask import (
    CrossTaskData,
)
from instructvid.steps.benchmark.protocol import make_splits, run_benchmark
from instructvid.steps.benchmark.registry import default_registry
from tests.steps.test_external import spy
from tests.worlds import random_world

# The random worlds below have segments past the end of the features: clipped on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::instructvid.io.crosstask.SegmentClippedWarning")


def test_splits_are_seeded_disjoint_and_exclude_validation(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path))
    a = make_splits(data, n_splits=3, n_train=4, seed=7)
    b = make_splits(data, n_splits=3, n_train=4, seed=7)
    c = make_splits(data, n_splits=3, n_train=4, seed=8)
    assert [s.train for s in a] == [s.train for s in b]
    assert [s.train for s in a] != [s.train for s in c]
    assert a[0].train != a[1].train
    for split in a:
        for task_id in data.primary:
            train, test = set(split.train[task_id]), set(split.test[task_id])
            assert len(train) == 4
            assert not train & test
            assert not (train | test) & set(data.val_videos[task_id])
            assert len(train) + len(test) == 12 - 2


def test_tasks_with_too_few_videos_are_not_tested(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path, n_videos=5, n_val=1))
    split = make_splits(data, n_splits=1, n_train=4)[0]
    assert split.test == {}
    assert len(split.train["10"]) == 4


def _hand_uniform_recall(data: CrossTaskData, test: dict[str, list[str]]) -> float:
    """Independent computation: step k at round(T/K*(k+0.5)); hit if inside any GT segment row."""
    recalls = []
    for task_id, vids in test.items():
        hits = total = 0
        k_steps = data.task(task_id).n_steps
        for vid in vids:
            n_frames = int(np.load(data.paths.feature(vid)).shape[0])
            lines = data.paths.annotation(task_id, vid).read_text().split()
            segs = [(int(s), float(a), float(b)) for s, a, b in (x.split(",") for x in lines)]
            for k in range(k_steps):
                rows = {
                    r
                    for s, a, b in segs
                    if s == k + 1
                    for r in range(math.floor(a), min(math.ceil(b), n_frames))
                }
                if rows:
                    total += 1
                    hits += round(n_frames / k_steps * (k + 0.5)) in rows
        recalls.append(hits / total)
    return sum(recalls) / len(recalls)


def test_uniform_recall_equals_hand_computation(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path))
    out = tmp_path / "bench"
    summary = run_benchmark(data, out, methods=["uniform"], n_splits=3, n_train=4, seed=1)
    splits = make_splits(data, n_splits=3, n_train=4, seed=1)
    per_split = [_hand_uniform_recall(data, s.test) for s in splits]
    assert summary["uniform"]["mean"] == pytest.approx(np.mean(per_split), abs=1e-12)
    assert summary["uniform"]["std"] == pytest.approx(np.std(per_split), abs=1e-12)
    written = json.loads((out / "uniform.json").read_text())
    assert written["metric"] == "recall" and written["method"] == "uniform"
    assert set(written["per_task"]) == {"10", "20"}
    assert len(written["per_split"]) == 3
    assert 0 <= written["mean"] <= 1


def test_benchmark_resumes_from_cached_splits(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path))
    out = tmp_path / "bench"
    run_benchmark(data, out, methods=["uniform"], n_splits=3, n_train=4)
    (out / "splits" / "uniform" / "split_01.json").unlink()
    calls: list[int] = []
    registry = spy(default_registry(), "uniform", calls)
    run_benchmark(data, out, methods=["uniform"], n_splits=3, n_train=4, registry=registry)
    assert calls == [1]  # only the missing split was recomputed
    run_benchmark(data, out, methods=["uniform"], n_splits=3, n_train=5, registry=registry)
    assert calls == [1, 0, 1, 2]  # other settings: the cache does not apply


def test_random_method_gives_map_and_unknown_method_fails(tmp_path: Path) -> None:
    data = CrossTaskData.open(random_world(tmp_path))
    summary = run_benchmark(data, tmp_path / "b", methods=["random"], n_splits=2, n_train=4)
    assert 0 <= summary["random"]["map"]["mean"] <= 1
    with pytest.raises(KeyError, match="unknown method"):
        run_benchmark(data, tmp_path / "b", methods=["nope"], n_splits=1, n_train=4)


def test_uniform_recall_on_a_synthetic_world_equals_hand_computation(tmp_path: Path) -> None:
    from instructvid.synth.crosstask.generate import generate_crosstask

    data = CrossTaskData.open(generate_crosstask(tmp_path / "world", size="tiny", seed=3))
    summary = run_benchmark(data, tmp_path / "bench", methods=["uniform"], n_splits=2, n_train=3)
    splits = make_splits(data, n_splits=2, n_train=3, seed=0)
    assert all(s.n_test > 0 for s in splits)
    hand = [_hand_uniform_recall(data, s.test) for s in splits]
    assert summary["uniform"]["mean"] == pytest.approx(np.mean(hand), abs=1e-12)


def test_benchmark_progress_moves_with_epochs_inside_a_split(tmp_path: Path) -> None:
    from instructvid.steps.benchmark.types import MethodOptions

    data = CrossTaskData.open(random_world(tmp_path))
    opts = MethodOptions(hyper={"epochs_init": 1, "epochs": 3, "batch_videos": 4})
    seen: list[tuple[str, float, int]] = []
    run = dict(methods=["task", "alayrac"], n_splits=2, n_train=4, options=opts)
    with_bar = run_benchmark(
        data, tmp_path / "a", progress=lambda m, d, t: seen.append((m, d, t)), **run
    )
    task = [d for m, d, _ in seen if m == "task"]
    # 4 epochs per split: the bar passes 1/4, 2/4, 3/4 of each split, not only its end
    assert [d for d in task if 0 < d < 1] == [0.25, 0.5, 0.75]
    assert [d for d in task if 1 < d < 2] == [1.25, 1.5, 1.75]
    assert task == sorted(task) and task[-1] == 2
    alayrac = [d for m, d, _ in seen if m == "alayrac"]
    assert any(0 < d < 1 for d in alayrac) and alayrac == sorted(alayrac)
    # progress changes nothing else
    without = run_benchmark(data, tmp_path / "b", **run)
    for method in ("task", "alayrac"):
        assert with_bar[method]["per_split"] == without[method]["per_split"]
