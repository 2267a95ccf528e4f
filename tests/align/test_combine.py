"""Eq. 4.4: actionness added to step scores before the exactly-one DP; choosing alpha."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.align.combine import choose_alpha, combine_scores, localize_with_actionness
from instructvid.align.dp import ordered_assignment


def test_combination_and_extremes() -> None:
    rng = np.random.default_rng(0)
    f = rng.normal(size=(30, 4))
    s = rng.normal(size=30)
    np.testing.assert_allclose(combine_scores(f, s, 0.25), 0.75 * f + 0.25 * s[:, None])
    # alpha = 0 is the step model alone.
    np.testing.assert_array_equal(localize_with_actionness(f, s, 0.0), ordered_assignment(f))
    # alpha = 1 places the K steps on the K highest-actionness seconds (any order is feasible).
    y = localize_with_actionness(f, s, 1.0)
    assert sorted(np.flatnonzero(y.any(1)).tolist()) == sorted(np.argsort(s)[-4:].tolist())
    assert (y.sum(0) == 1).all()
    z = combine_scores(f, s * 10 + 3, 0.5, standardize=True)
    np.testing.assert_allclose(z, 0.5 * f + 0.5 * ((s - s.mean()) / s.std())[:, None])
    with pytest.raises(ValueError, match="30 seconds but the step scores have 29"):
        combine_scores(f[:29], s, 0.5)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        combine_scores(f, s, 1.5)


def test_actionness_fixes_background_and_alpha_is_chosen_on_validation() -> None:
    # Step scores that do not model background (as the thesis says of the CrossTask model):
    # each step is recognised around its segment, with background before it scoring highest;
    # actionness marks the action seconds.
    rng = np.random.default_rng(1)
    videos = []
    for _ in range(5):
        t, k = 40, 3
        gt = np.zeros((t, k), dtype=np.uint8)
        starts = [5, 18, 30]
        for j, s0 in enumerate(starts):
            gt[s0 : s0 + 4, j] = 1
        f = np.full((t, k), -1.0) + 0.01 * rng.random((t, k))
        for j, s0 in enumerate(starts):
            f[s0 : s0 + 4, j] += 0.05  # the step's own seconds score a little higher ...
            f[s0 - 4 : s0, j] += 0.08  # ... but the background just before it even more
        s = np.where(gt.any(1), 1.0, 0.0)
        videos.append((f, s, gt))
    choice = choose_alpha(videos, alphas=(0.0, 0.5, 1.0))
    assert choice.recall[0.0] == 0.0
    assert choice.recall[0.5] == 1.0
    assert choice.alpha == 0.5  # ties go to the smallest alpha
    with pytest.raises(ValueError, match="at least one validation video"):
        choose_alpha([])


def test_choose_alpha_with_task_ids_uses_the_mean_over_tasks() -> None:
    # Task "a": one video with 1 step present; task "b": one video with 3 steps present.
    # With alpha = 0 only task a's step is found, with alpha = 1 only task b's steps are.
    # Pooled over steps alpha = 1 wins (3/4 vs 1/4); CrossTask's mean over tasks ties
    # (0.5 each way) and the smallest alpha is kept.
    t = 12
    gt_a = np.zeros((t, 3), np.uint8)
    gt_a[2, 0] = 1
    f_a = np.full((t, 3), -5.0)
    f_a[2, 0], f_a[5, 1], f_a[8, 2] = 0.0, 0.0, 0.0
    s_a = np.zeros(t)
    s_a[[9, 10, 11]] = 10.0  # actionness points elsewhere: step 1 is lost at alpha = 1
    gt_b = np.zeros((t, 3), np.uint8)
    gt_b[1, 0] = gt_b[4, 1] = gt_b[7, 2] = 1
    f_b = np.full((t, 3), -5.0)
    f_b[9, 0], f_b[10, 1], f_b[11, 2] = 0.0, 0.0, 0.0
    s_b = np.zeros(t)
    s_b[[1, 4, 7]] = 10.0
    videos = [(f_a, s_a, gt_a), (f_b, s_b, gt_b)]
    pooled = choose_alpha(videos, alphas=(0.0, 1.0))
    assert pooled.recall == {0.0: 0.25, 1.0: 0.75} and pooled.alpha == 1.0
    by_task = choose_alpha(videos, alphas=(0.0, 1.0), task_ids=["a", "b"])
    assert by_task.recall == {0.0: 0.5, 1.0: 0.5} and by_task.alpha == 0.0
    with pytest.raises(ValueError, match="1 task ids for 2 validation videos"):
        choose_alpha(videos, task_ids=["a"])
