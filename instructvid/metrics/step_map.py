"""CrossTask step mean average precision (thesis Table A.2).

The thesis reports a step-localization mAP next to recall (Table A.2, in %):

    ===========================  ======  =====
    method                       recall  mAP
    ===========================  ======  =====
    random                       8.27    4.3
    Alayrac et al. 2016          13.3    6.9
    ours, steps not shared       18.6    8.9
    ours, shared components      22.4    11.0
    ===========================  ======  =====

(recall ≈ 2 × mAP), but it does not define the mAP. **This module implements
our reading of it**, which is the natural per-second detection AP:

1. For a task τ and each of its steps ``k``, concatenate over the task's
   scored videos the per-second scores ``S[:, k]`` and the ground-truth column
   ``Y_true[:, k]``; every second of every video is one ranked item, positive
   iff it lies inside a ground-truth segment of step ``k``.
2. ``AP_{τ,k}`` = non-interpolated average precision of that ranking
   (:func:`instructvid.metrics.ap.average_precision`, identical to
   ``sklearn.metrics.average_precision_score``).
3. Steps with no positive second in any scored video of τ have no AP and are
   skipped; ``mAP_τ`` = mean of the remaining ``AP_{τ,k}``.
4. ``mAP`` = unweighted mean of ``mAP_τ`` over tasks (as recall is averaged).

Scores are ranked *across videos*, so they must be comparable between videos
(e.g. log-probabilities or probabilities, not per-video ranks). Only videos
present in both ``y_true`` and ``scores`` are scored, as for recall.
Values are fractions in ``[0, 1]``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from instructvid.metrics.ap import average_precision

__all__ = ["MapResult", "step_map"]


@dataclass(frozen=True)
class MapResult:
    """Step mAP of one evaluation.

    Attributes
    ----------
    per_task:
        Task id -> mAP over that task's steps (fraction in ``[0, 1]``). Only
        tasks with at least one step that has a positive second.
    mean:
        Unweighted mean of ``per_task`` (``nan`` if empty).
    per_step:
        Task id -> list of length ``K_task``: AP of step ``k`` at index ``k``,
        ``nan`` for a step without any positive second (skipped in the mean).
        Contains every ground-truth task that had at least one scored video.
    n_videos:
        Number of videos scored (present in both mappings), over all tasks.
    """

    per_task: dict[str, float]
    mean: float
    per_step: dict[str, list[float]]
    n_videos: int

    def to_json(self, method: str) -> dict[str, Any]:
        """JSON-serialisable summary: ``{"metric": "map", "per_task", "mean",
        "n_videos", "method"}``. Values are fractions in ``[0, 1]``."""
        return {
            "metric": "map",
            "per_task": {task: float(v) for task, v in self.per_task.items()},
            "mean": float(self.mean),
            "n_videos": int(self.n_videos),
            "method": method,
        }


def _check_video(y: Any, s: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    s = np.asarray(s)
    if y.ndim != 2 or y.shape != s.shape:
        raise ValueError(
            f"{where}: y_true and scores must be 2-D (T, K) arrays of the same shape, "
            f"got y_true {y.shape} and scores {s.shape}"
        )
    if y.dtype != np.bool_:
        if not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
            raise ValueError(f"{where}: y_true must be bool or 0/1 numbers, got dtype {y.dtype}")
        if not ((y == 0) | (y == 1)).all():
            raise ValueError(f"{where}: y_true must contain only 0 and 1")
    if not np.issubdtype(s.dtype, np.number) or np.iscomplexobj(s):
        raise ValueError(f"{where}: scores must be real numbers, got dtype {s.dtype}")
    if not np.isfinite(s).all():
        raise ValueError(f"{where}: scores must be finite (found NaN or ±inf)")
    return y.astype(bool, copy=False), s


def step_map(
    y_true: Mapping[str, Mapping[str, np.ndarray]],
    scores: Mapping[str, Mapping[str, np.ndarray]],
) -> MapResult:
    """CrossTask step mAP (our reading of thesis Table A.2; see module docstring).

    Parameters
    ----------
    y_true:
        ``y_true[task][video]``: ``(T, K_task)`` 0/1 ground truth, one row per
        second.
    scores:
        ``scores[task][video]``: ``(T, K_task)`` finite real scores, higher =
        more likely that the second belongs to that step. Must be comparable
        across videos of a task.

    Returns
    -------
    MapResult

    Raises
    ------
    ValueError
        If a scored video's arrays differ in shape (message names task, video
        and both shapes), ``y_true`` is not 0/1, a score is not finite, or the
        videos of one task disagree on ``K``.

    Warns
    -----
    UserWarning
        For each task with no positive second for any step among its scored
        videos; it is left out of ``per_task`` and the mean.
    """
    per_task: dict[str, float] = {}
    per_step: dict[str, list[float]] = {}
    n_videos = 0
    for task, vids_true in y_true.items():
        vids_score = scores.get(task, {})
        common = sorted(set(vids_true).intersection(vids_score))
        ys: list[np.ndarray] = []
        ss: list[np.ndarray] = []
        for vid in common:
            where = f"task {task!r} video {vid!r}"
            y, s = _check_video(vids_true[vid], vids_score[vid], where)
            if ys and y.shape[1] != ys[0].shape[1]:
                raise ValueError(
                    f"{where}: has {y.shape[1]} steps but video {common[0]!r} of the "
                    f"same task has {ys[0].shape[1]}"
                )
            ys.append(y)
            ss.append(s)
        n_videos += len(common)
        if not ys:
            warnings.warn(
                f"step_map: task {task!r} has no scored video; it is left out",
                stacklevel=2,
            )
            continue
        y_all = np.concatenate(ys, axis=0)  # (sum T, K)
        s_all = np.concatenate(ss, axis=0)
        aps = [average_precision(s_all[:, k], y_all[:, k]) for k in range(y_all.shape[1])]
        per_step[task] = aps
        valid = [a for a in aps if not math.isnan(a)]
        if not valid:
            warnings.warn(
                f"step_map: task {task!r} has no ground-truth step among its scored "
                "videos; it is left out of the per-task mAPs and the mean",
                stacklevel=2,
            )
            continue
        per_task[task] = math.fsum(valid) / len(valid)

    mean = math.fsum(per_task.values()) / len(per_task) if per_task else float("nan")
    return MapResult(per_task=per_task, mean=mean, per_step=per_step, n_videos=n_videos)
