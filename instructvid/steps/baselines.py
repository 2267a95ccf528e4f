"""Baselines for step localization that need no training (METHOD §1.7).

The trained baselines — supervised topline, task-specific steps, step-level sharing — are the
step learner at other settings (:mod:`instructvid.steps.benchmark.methods`); Alayrac'16 is
:mod:`instructvid.steps.benchmark.alayrac`. All are selectable by name in ``steps benchmark --methods``.
"""

from __future__ import annotations

import numpy as np


def uniform_assignment(n_frames: int, n_steps: int) -> np.ndarray:
    """The uniform baseline: step k (0-based) at second ``round(T / K * (k + 0.5))``.

    Exactly as the authors' ``uniform_assignment`` (thesis Table 3.3, "Uniform", 9.7 % recall):
    Python's ``round`` (halves go to the even integer), so for T == K two steps can land on the
    same second; each column still holds exactly one 1. One deviation: when T == K and K is
    even, ``round(K - 0.5) == K`` is past the last second (the authors' code raises an
    IndexError there); we clip it to ``T - 1``. For T > K the formula never leaves the video.

    Args:
        n_frames: T, the video's length in seconds (feature rows).
        n_steps: K, the number of steps of its task.

    Returns:
        uint8 array of shape (T, K), one 1 per column.
    """
    if n_steps < 1:
        raise ValueError(f"uniform_assignment needs K >= 1 steps, got {n_steps}")
    if n_frames < n_steps:
        raise ValueError(f"cannot place K={n_steps} steps in T={n_frames} seconds: need T >= K")
    step_size = float(n_frames) / n_steps
    y = np.zeros((n_frames, n_steps), dtype=np.uint8)
    for k in range(n_steps):
        y[min(round(step_size * (k + 0.5)), n_frames - 1), k] = 1
    return y


def random_scores(n_frames: int, n_steps: int, rng: np.random.Generator) -> np.ndarray:
    """Random per-second step scores, uniform in [0, 1): the "random" row of Table A.2.

    Returns:
        float64 array of shape (T, K).
    """
    return rng.random((n_frames, n_steps))
