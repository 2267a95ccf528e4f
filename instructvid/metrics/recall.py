"""CrossTask step-localization recall (Zhukov et al., CVPR 2019; thesis §3.6.1).

Setting
-------
A video of task τ lasting ``T`` seconds has one feature row per second and the
task has ``K_τ`` ordered steps. Its ground truth is a ``(T, K)`` 0/1 matrix
``Y_true``: ``Y_true[t, k] = 1`` iff second ``t`` lies in an annotated segment
of step ``k`` (a segment ``[start, end]`` in seconds covers rows
``floor(start) .. ceil(end) - 1``). A prediction is a ``(T, K)`` 0/1 matrix
``Y_pred`` with (at most) one 1 per column: the single second at which step
``k`` is predicted, as produced by the "exactly one" dynamic program.

Definition
----------
Exactly as the authors' evaluation code (``get_recalls`` in
``DmZhukov/CrossTask/train.py``)::

    step_total[τ] += (Y_true.sum(axis=0) > 0).sum()   # steps present in the GT
    step_match[τ] += (Y_true * Y_pred).sum()           # predicted second inside the GT
    recall[τ]      = step_match[τ] / step_total[τ]

summed over the videos of τ present in *both* the ground truth and the
predictions (the authors intersect the two video sets). The reported number is
the unweighted mean of ``recall[τ]`` over the (primary) tasks: every task
counts the same regardless of how many videos or steps it has. In words: the
fraction of annotated step instances whose single predicted second falls inside
one of that step's ground-truth segments. A prediction for a step that does not
occur in the video is never counted, neither as a hit nor in the total.

Values are fractions in ``[0, 1]`` (the papers report percentages).

Reference numbers (thesis Table 3.3, mean over the 18 primary tasks, averaged
over 20 random train/test splits): uniform assignment 9.7 %, fully supervised
31.6 %, proposed weakly supervised method 22.4 %.

Deviations from the authors' code, all on inputs their code does not handle:
a task whose scored videos contain no ground-truth step has an undefined
recall (0/0). It is left out of ``per_task`` and of the mean, with a
``warnings.warn``; the authors' code would produce NaN/inf and a NaN mean.
Tasks that appear only in the predictions are ignored (the authors iterate
over the ground-truth tasks).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "RecallResult",
    "crosstask_recall",
    "mean_and_std_over_splits",
    "video_recall_counts",
]


@dataclass(frozen=True)
class RecallResult:
    """CrossTask recall of one evaluation (one train/test split).

    Attributes
    ----------
    per_task:
        Task id -> recall, a fraction in ``[0, 1]``. Only tasks with at least
        one ground-truth step among their scored videos.
    mean:
        Unweighted mean of ``per_task`` values (fraction; ``nan`` if
        ``per_task`` is empty).
    matched:
        Task id -> number of ground-truth steps whose predicted second falls
        inside the step's ground truth (summed over videos). Includes every
        ground-truth task, also those left out of ``per_task``.
    total:
        Task id -> number of (video, step) pairs whose step occurs in the
        ground truth. Same keys as ``matched``.
    n_videos:
        Number of videos scored (present in both ground truth and
        predictions), over all tasks.
    """

    per_task: dict[str, float]
    mean: float
    matched: dict[str, int]
    total: dict[str, int]
    n_videos: int

    def to_json(self, method: str) -> dict[str, Any]:
        """JSON-serialisable summary: ``{"metric": "recall", "per_task", "mean",
        "n_videos", "method"}``. Recalls are fractions in ``[0, 1]``."""
        return {
            "metric": "recall",
            "per_task": {task: float(r) for task, r in self.per_task.items()},
            "mean": float(self.mean),
            "n_videos": int(self.n_videos),
            "method": method,
        }


def _check_binary(a: np.ndarray, what: str, where: str) -> None:
    if a.dtype == np.bool_:
        return
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ValueError(f"{what} for {where} must be bool or 0/1 numbers, got dtype {a.dtype}")
    if not ((a == 0) | (a == 1)).all():
        raise ValueError(f"{what} for {where} must contain only 0 and 1")


def _video_counts(y_true: Any, y_pred: Any, where: str) -> tuple[int, int]:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 2 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"{where}: y_true and y_pred must be 2-D (T, K) arrays of the same shape, "
            f"got y_true {y_true.shape} and y_pred {y_pred.shape}"
        )
    _check_binary(y_true, "y_true", where)
    _check_binary(y_pred, "y_pred", where)
    true_b = y_true.astype(bool, copy=False)
    pred_b = y_pred.astype(bool, copy=False)
    per_column = pred_b.sum(axis=0)
    if (per_column > 1).any():
        bad = np.flatnonzero(per_column > 1).tolist()
        raise ValueError(
            f"recall expects one predicted second per step, but {where} has "
            f"{per_column.max()} predicted seconds in step column(s) {bad}"
        )
    total = int(np.count_nonzero(true_b.any(axis=0)))
    matched = int(np.count_nonzero(true_b & pred_b))
    return matched, total


def video_recall_counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[int, int]:
    """Recall counts of one video.

    Parameters
    ----------
    y_true:
        ``(T, K)`` 0/1 (or bool) ground truth; ``T`` seconds, ``K`` steps.
    y_pred:
        ``(T, K)`` 0/1 (or bool) prediction with at most one 1 per column
        (the predicted second of each step).

    Returns
    -------
    (matched, total)
        ``total`` = number of steps with at least one ground-truth second;
        ``matched`` = number of steps whose predicted second is a ground-truth
        second of that step (always ``<= total``).

    Raises
    ------
    ValueError
        On shape mismatch, non-0/1 values, or more than one 1 in a column of
        ``y_pred``.
    """
    return _video_counts(y_true, y_pred, "video")


def crosstask_recall(
    y_true: Mapping[str, Mapping[str, np.ndarray]],
    y_pred: Mapping[str, Mapping[str, np.ndarray]],
) -> RecallResult:
    """CrossTask recall over a set of tasks (see module docstring).

    Parameters
    ----------
    y_true:
        ``y_true[task][video]`` is the ``(T, K_task)`` 0/1 ground truth,
        one row per second.
    y_pred:
        ``y_pred[task][video]`` is the ``(T, K_task)`` 0/1 prediction with at
        most one 1 per column. Videos absent from either mapping are not
        scored; tasks absent from ``y_true`` are ignored.

    Returns
    -------
    RecallResult
        Per-task recall (fractions), their unweighted mean and the raw counts.

    Raises
    ------
    ValueError
        If a scored video's arrays differ in shape (message names the task,
        the video and both shapes), contain values other than 0/1, or
        ``y_pred`` has more than one 1 in a column.

    Warns
    -----
    UserWarning
        For each task whose scored videos contain no ground-truth step (its
        recall is 0/0): the task is left out of ``per_task`` and the mean.
    """
    matched: dict[str, int] = {}
    total: dict[str, int] = {}
    n_videos = 0
    for task, vids_true in y_true.items():
        vids_pred = y_pred.get(task, {})
        m_task = 0
        t_task = 0
        # Sorted for a deterministic error order; the sums do not depend on it.
        for vid in sorted(set(vids_true).intersection(vids_pred)):
            m, t = _video_counts(vids_true[vid], vids_pred[vid], f"task {task!r} video {vid!r}")
            m_task += m
            t_task += t
            n_videos += 1
        matched[task] = m_task
        total[task] = t_task

    per_task: dict[str, float] = {}
    for task in matched:
        if total[task] == 0:
            warnings.warn(
                f"crosstask_recall: task {task!r} has no ground-truth step among its "
                "scored videos; it is left out of the per-task recalls and the mean",
                stacklevel=2,
            )
            continue
        per_task[task] = matched[task] / total[task]

    mean = math.fsum(per_task.values()) / len(per_task) if per_task else float("nan")
    return RecallResult(
        per_task=per_task, mean=mean, matched=matched, total=total, n_videos=n_videos
    )


def mean_and_std_over_splits(results: Sequence[RecallResult]) -> dict[str, Any]:
    """Aggregate recall over repeated random splits (the 20-split protocol).

    The papers report recall averaged over 20 random train/test splits. This
    returns, across the given splits:

    - ``per_task[task] = {"mean", "std", "n_splits"}`` over the splits in which
      the task has a recall (a task left out of a split is not counted there,
      ``n_splits`` says how many splits contributed);
    - ``mean`` / ``std``: mean and standard deviation of the per-split
      ``RecallResult.mean`` values;
    - ``n_splits``: ``len(results)``.

    Standard deviations are *population* standard deviations (``ddof=0``,
    i.e. divided by the number of splits, as ``numpy.std`` by default), not
    the unbiased sample estimate. All values are fractions in ``[0, 1]``.
    A NaN split mean (a split with no scorable task) propagates to ``mean``
    and ``std``.

    Raises
    ------
    ValueError
        If ``results`` is empty.
    """
    if len(results) == 0:
        raise ValueError("mean_and_std_over_splits needs at least one result")
    by_task: dict[str, list[float]] = {}
    for res in results:
        for task, value in res.per_task.items():
            by_task.setdefault(task, []).append(float(value))
    per_task = {
        task: {
            "mean": float(np.mean(values)),
            "std": float(np.std(values, ddof=0)),
            "n_splits": len(values),
        }
        for task, values in by_task.items()
    }
    split_means = np.array([float(r.mean) for r in results], dtype=np.float64)
    return {
        "per_task": per_task,
        "mean": float(np.mean(split_means)),
        "std": float(np.std(split_means, ddof=0)),
        "n_splits": len(results),
    }
