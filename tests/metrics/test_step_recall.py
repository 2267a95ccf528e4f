"""Per-step recall counts: they add up to the task recall and count each step on its own."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instructvid.metrics.recall import crosstask_recall
from instructvid.metrics.step_recall import step_recall_counts


def _video(rng: np.random.Generator, t: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    truth = (rng.random((t, k)) < 0.3).astype(np.uint8)
    pred = np.zeros((t, k), dtype=np.uint8)
    pred[rng.integers(0, t, size=k), np.arange(k)] = 1
    return truth, pred


def test_hand_made() -> None:
    truth = np.zeros((5, 3), dtype=np.uint8)
    truth[0:2, 0] = 1  # step 1 at 0-1
    truth[3, 2] = 1  # step 3 at 3; step 2 absent
    pred = np.zeros((5, 3), dtype=np.uint8)
    pred[1, 0] = pred[2, 1] = pred[4, 2] = 1  # hit, (absent), miss
    out = step_recall_counts({"a": {"v": truth, "w": truth}}, {"a": {"v": pred}})
    assert out == {"a": {"matched": [1, 0, 0], "total": [1, 0, 1]}}
    empty = step_recall_counts({"a": {"v": truth}}, {})
    assert empty == {"a": {"matched": [0, 0, 0], "total": [0, 0, 0]}}
    with pytest.raises(ValueError, match="one predicted second"):
        step_recall_counts({"a": {"v": truth}}, {"a": {"v": np.ones((5, 3))}})


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_sums_to_the_task_recall(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth, pred = {}, {}
    for task, k in (("a", 3), ("b", 5)):
        pairs = [_video(rng, int(rng.integers(5, 12)), k) for _ in range(4)]
        truth[task] = {f"v{i}": p[0] for i, p in enumerate(pairs)}
        pred[task] = {f"v{i}": p[1] for i, p in enumerate(pairs)}
    counts = step_recall_counts(truth, pred)
    recall = crosstask_recall(truth, pred)
    for task in truth:
        assert sum(counts[task]["matched"]) == recall.matched[task]
        assert sum(counts[task]["total"]) == recall.total[task]
