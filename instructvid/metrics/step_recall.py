"""CrossTask recall per step (the counts behind :func:`instructvid.metrics.recall.crosstask_recall`).

For task τ and its step k: ``total[k]`` = number of scored videos in which step k has a
ground-truth second, ``matched[k]`` = number of those whose single predicted second of step k
lies inside step k's ground truth. Summed over k they are the task's ``total`` and ``matched``
of :func:`~instructvid.metrics.recall.crosstask_recall` (same videos: those in both mappings),
so ``Σ_k matched[k] / Σ_k total[k]`` is the task's recall. A step's recall
``matched[k] / total[k]`` is undefined (``None``) when it never occurs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from instructvid.metrics.recall import video_recall_counts

__all__ = ["step_recall_counts"]


def step_recall_counts(
    y_true: Mapping[str, Mapping[str, np.ndarray]],
    y_pred: Mapping[str, Mapping[str, np.ndarray]],
) -> dict[str, dict[str, list[int]]]:
    """Per task, per step (task order) hit and occurrence counts.

    Args:
        y_true: ``y_true[task][video]`` (T, K) 0/1 ground truth, one row per second.
        y_pred: ``y_pred[task][video]`` (T, K) 0/1 prediction, at most one 1 per column.

    Returns:
        ``{task: {"matched": [m_1 … m_K], "total": [n_1 … n_K]}}`` for every task of ``y_true``
        (lists of ints; zeros when no video is scored).

    Raises:
        ValueError: as :func:`~instructvid.metrics.recall.video_recall_counts` (shapes, values,
            more than one predicted second per step).
    """
    out: dict[str, dict[str, list[int]]] = {}
    for task, vids_true in y_true.items():
        vids_pred = y_pred.get(task, {})
        matched: np.ndarray | None = None
        total: np.ndarray | None = None
        for vid in sorted(set(vids_true).intersection(vids_pred)):
            truth = np.asarray(vids_true[vid]).astype(bool)
            pred = np.asarray(vids_pred[vid]).astype(bool)
            video_recall_counts(truth, pred)  # validates shapes, values, one second per step
            if matched is None:
                matched = np.zeros(truth.shape[1], dtype=np.int64)
                total = np.zeros(truth.shape[1], dtype=np.int64)
            matched += (truth & pred).any(axis=0)
            total += truth.any(axis=0)
        if matched is None or total is None:
            k = next((np.asarray(v).shape[1] for v in vids_true.values()), 0)
            out[task] = {"matched": [0] * k, "total": [0] * k}
        else:
            out[task] = {"matched": matched.tolist(), "total": total.tolist()}
    return out
