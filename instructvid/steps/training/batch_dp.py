"""The Y-update's DP on a whole batch: exactly-one ordered labelling of each video of a batch.

The videos' (T_i, K) costs arrive stacked in one (Σ T_i, K) array; a compiled loop runs the
project's DP core (:mod:`instructvid.align.dp`) on each video in place, without repacking.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from instructvid.align import dp as _dp

__all__ = ["batch_dp"]


@njit(cache=True, nogil=True, boundscheck=False)
def _dp_rows_kernel(flat, offs, lengths, k, rows_out):  # pragma: no cover
    """Exactly-one DP (minimising) of each video of a flat buffer; rows_out[i, s] = second of
    step s of video i. Returns the index of the first infeasible video, or -1."""
    n_videos = lengths.shape[0]
    max_t = 1
    for i in range(n_videos):
        if lengths[i] > max_t:
            max_t = lengths[i]
    ns = 2 * k + 1
    state = np.empty(ns, dtype=np.float64)
    bp_ws = np.empty(max_t * ns, dtype=np.uint8)
    labels = np.empty(max_t, dtype=np.int64)
    for i in range(n_videos):
        t_len = lengths[i]
        o = offs[i]
        c = flat[o : o + t_len * k].reshape((t_len, k))
        bp = bp_ws[: t_len * ns].reshape((t_len, ns))
        if _dp._dp_core(c, 1.0, True, state, bp, labels) != 0:
            return i
        for t in range(t_len):
            lab = labels[t]
            if lab > 0:
                rows_out[i, lab - 1] = t
    return -1


def batch_dp(costs: np.ndarray, lengths: np.ndarray, k: int) -> np.ndarray:
    """Exactly-one DP minimising stacked (N, K) float64 costs of videos of ``lengths``.

    Returns (n_videos, K) int64: the second of each step. Uses the project's DP core
    (:mod:`instructvid.align.dp`) without repacking the batch.
    """
    flat = np.ascontiguousarray(costs, dtype=np.float64).reshape(-1)
    offs = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1] * k, out=offs[1:])
    rows = np.zeros((len(lengths), k), dtype=np.int64)
    bad = _dp_rows_kernel(flat, offs, lengths.astype(np.int64), k, rows)
    if bad >= 0:
        raise ValueError(f"video {bad} of the batch: no feasible ordered labelling")
    return rows
