"""Average precision (AP) of a binary ranking, in pure numpy.

Definition
----------
Rank the ``N`` items by decreasing score. Every *distinct* score value ``s``
is one threshold: the items with score ``>= s`` are predicted positive. Tied
scores therefore enter together, in one step, never one by one. With ``P``
positives in total, at threshold ``n`` let ``TP_n`` be the number of positives
ranked at or above it and ``N_n`` the number of items at or above it; then

    P_n = TP_n / N_n          (precision)
    R_n = TP_n / P            (recall)
    AP  = Σ_n (R_n − R_{n−1}) · P_n,   with R_0 = 0,

i.e. the step-wise (non-interpolated) area under the precision–recall curve.
This is the definition used by ``sklearn.metrics.average_precision_score``
and this implementation reproduces it to floating-point rounding (checked in
``tests/metrics/test_ap.py``). It is *not* the 11-point interpolated AP of
PASCAL VOC 2007, nor the "precision envelope" AP of later VOC versions.

Cost: one sort, O(N log N) time and O(N) memory; a few million items take well
under a second.
"""

from __future__ import annotations

import numpy as np

__all__ = ["average_precision"]


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Non-interpolated average precision of ``scores`` against binary ``labels``.

    Parameters
    ----------
    scores:
        Shape ``(N,)``, real-valued and finite; higher means "more likely
        positive". Only the order matters (unitless). Exactly equal values are
        one threshold (ties are not broken).
    labels:
        Shape ``(N,)``, bool or numbers in ``{0, 1}``; 1/True marks a positive.

    Returns
    -------
    float
        AP in ``[0, 1]``, equal to
        ``sklearn.metrics.average_precision_score(labels, scores)``.
        If there is no positive label (including ``N == 0``) AP is undefined
        and ``nan`` is returned, silently (no warning): callers that average
        APs (e.g. over steps) are expected to skip NaN entries.

    Raises
    ------
    ValueError
        If the arrays are not 1-D, differ in length, a score is NaN or
        infinite, or a label is not 0/1.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 1 or labels.ndim != 1:
        raise ValueError(
            f"average_precision expects 1-D arrays, got scores {scores.shape} "
            f"and labels {labels.shape}"
        )
    if scores.shape[0] != labels.shape[0]:
        raise ValueError(
            f"scores and labels differ in length: {scores.shape[0]} vs {labels.shape[0]}"
        )
    if not (np.issubdtype(scores.dtype, np.number) or scores.dtype == np.bool_):
        raise ValueError(f"scores must be numeric, got dtype {scores.dtype}")
    if np.iscomplexobj(scores):
        raise ValueError("scores must be real-valued")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite (found NaN or ±inf)")
    if labels.dtype != np.bool_:
        if not (np.issubdtype(labels.dtype, np.number) and not np.iscomplexobj(labels)):
            raise ValueError(f"labels must be bool or 0/1 numbers, got dtype {labels.dtype}")
        if not ((labels == 0) | (labels == 1)).all():
            raise ValueError("labels must contain only 0 and 1")
    positive = labels.astype(bool, copy=False)

    n_pos = int(np.count_nonzero(positive))
    if n_pos == 0:
        return float("nan")

    # Thresholds = distinct score values. Sorting the values (not argsorting)
    # and counting with binary search is ~3x faster than an argsort + gather
    # on millions of items, and gives the same integer counts.
    n = scores.shape[0]
    sorted_all = np.sort(scores)  # ascending
    sorted_pos = np.sort(scores[positive])
    # Start index (in ascending order) of each tie group.
    group_start = np.flatnonzero(sorted_all[1:] != sorted_all[:-1]) + 1
    group_start = np.concatenate(([0], group_start))
    thresholds = sorted_all[group_start]
    # Items / positives scored >= each threshold, then walk thresholds from
    # the highest score down (recall increasing).
    n_predicted = (n - group_start)[::-1].astype(np.float64)
    tp = (n_pos - np.searchsorted(sorted_pos, thresholds, side="left"))[::-1]
    tp = tp.astype(np.float64)
    precision = tp / n_predicted
    recall = tp / float(n_pos)
    recall_step = np.diff(recall, prepend=0.0)
    ap = float(np.sum(recall_step * precision))
    # Guard against -0.0 / rounding just outside [0, 1].
    return min(1.0, max(0.0, ap))
