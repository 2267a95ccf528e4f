"""Unordered (action-set) decoding with a length model (Richard, Kuehne & Gall, CVPR 2018).

Problem
-------
A video has ``T`` frames and there are ``C`` classes (in the steps baseline: background and the
task's ``K`` steps). Given per-frame class scores ``S`` (T, C) — e.g. log-likelihoods — and a
set ``R`` of *required* classes (the action set: the task's steps), choose one class
``y_t ∈ {0, …, C−1}`` per frame such that **every class of R occurs at least once, in any
order** (classes may recur; classes outside R are optional), maximising

    J(y) = Σ_t S[t, y_t] + Σ_{segments (c, l)} [start[c] + (l − 1) · stay[c]],

where a segment is a maximal run of equal labels, of class ``c`` and length ``l`` frames. With
``stay[c] = log q_c`` and ``start[c] = log(1 − q_c)`` the second sum is the log-probability of
the segment lengths under a geometric length model of mean ``1 / (1 − q_c)`` frames
(:func:`geometric_length_model`), the duration model of an HMM state with a self-loop.

Algorithm
---------
A Viterbi pass over the states (subset of R already seen, current class): ``2^|R| · C`` states
per frame. Entering class ``c`` from another class takes the best of the other classes at the
same subset, so a frame costs ``O(2^|R| · C)`` (the best and second-best class per subset are
kept), the whole video ``O(T · 2^|R| · C)``; backpointers take ``T · 2^|R| · C`` bytes (plus one
bit per entry for the previous subset). With |R| = 11 (CrossTask's largest task) and T = 300
that is 7 M cell updates and 14 MB. Ties are broken deterministically (the first candidate
found wins).

This replaces the paper's Poisson length model and its context model (a uniform prior over the
orderings compatible with the set) by a first-order geometric model: the decoder stays exact
and linear in T; see docs/steps.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

__all__ = ["geometric_length_model", "segments_value", "unordered_decode"]

_MAX_REQUIRED = 16


def geometric_length_model(mean_length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(stay, start)`` log-probabilities of a geometric length model.

    Args:
        mean_length: (C,) mean segment length of each class, in frames (values below 1 are
            raised to 1: a segment lasts at least one frame).

    Returns:
        ``stay`` (C,) = log q and ``start`` (C,) = log(1 − q), with q = 1 − 1/mean (a
        one-frame mean gives ``stay = −inf``: segments of exactly one frame).
    """
    mean = np.maximum(np.asarray(mean_length, dtype=np.float64), 1.0)
    q = 1.0 - 1.0 / mean
    with np.errstate(divide="ignore"):
        return np.log(q), np.log1p(-q)


@njit(cache=True)
def _decode(S, bits, stay, start):  # pragma: no cover - compiled
    T, C = S.shape
    n_masks = 1
    for c in range(C):
        if bits[c] > 0:
            n_masks *= 2
    full = n_masks - 1
    ninf = -np.inf
    V = np.full((n_masks, C), ninf)
    bp_class = np.zeros((T, n_masks, C), dtype=np.int8)
    bp_fresh = np.zeros((T, n_masks, C), dtype=np.bool_)  # came from the subset without c
    for c in range(C):
        V[bits[c], c] = start[c] + S[0, c]
    for t in range(1, T):
        W = np.full((n_masks, C), ninf)
        for m in range(n_masks):
            # best and second-best class at subset m (previous frame)
            b1 = ninf
            a1 = -1
            b2 = ninf
            a2 = -1
            for c in range(C):
                v = V[m, c]
                if v > b1:
                    b2 = b1
                    a2 = a1
                    b1 = v
                    a1 = c
                elif v > b2:
                    b2 = v
                    a2 = c
            if a1 < 0:
                continue
            for c in range(C):
                nm = m | bits[c]
                fresh = nm != m
                # stay in the segment of c
                if not fresh and V[m, c] > ninf:
                    v = V[m, c] + stay[c]
                    if v > W[nm, c]:
                        W[nm, c] = v
                        bp_class[t, nm, c] = c
                        bp_fresh[t, nm, c] = False
                # start a segment of c after another class
                if a1 != c:
                    best, arg = b1, a1
                else:
                    best, arg = b2, a2
                if arg >= 0 and best > ninf:
                    v = best + start[c]
                    if v > W[nm, c]:
                        W[nm, c] = v
                        bp_class[t, nm, c] = arg
                        bp_fresh[t, nm, c] = fresh
        for m in range(n_masks):
            for c in range(C):
                if W[m, c] > ninf:
                    W[m, c] += S[t, c]
        V = W
    labels = np.empty(T, dtype=np.int64)
    best = ninf
    cur = -1
    for c in range(C):
        if V[full, c] > best:
            best = V[full, c]
            cur = c
    if cur < 0:
        return labels, ninf
    m = full
    for t in range(T - 1, -1, -1):
        labels[t] = cur
        if t == 0:
            break
        prev = bp_class[t, m, cur]
        if bp_fresh[t, m, cur]:
            m = m & ~bits[cur]
        cur = prev
    return labels, best


def unordered_decode(
    scores: np.ndarray,
    required: Sequence[int],
    stay: np.ndarray,
    start: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Best labelling in which every class of ``required`` occurs at least once, in any order.

    Args:
        scores: (T, C) per-frame class scores (higher = better); ``-inf`` forbids a cell (e.g.
            a class outside the video's action set).
        required: indices of the classes that must each label at least one frame (≤ 16).
        stay: (C,) score added for each frame that continues a segment (≤ 0 for a length
            model; ``-inf`` forbids segments longer than one frame).
        start: (C,) score added for each segment of the class.

    Returns:
        ``(labels (T,) int64 in [0, C), objective J)``.

    Raises:
        ValueError: bad shapes or values, or no labelling exists (T < |required|, or the
            forbidden cells and the length model leave none).
    """
    S = np.ascontiguousarray(scores, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] == 0 or S.shape[1] == 0:
        raise ValueError(f"scores must be a non-empty (T, C) array, got shape {S.shape}")
    T, C = S.shape
    if C > 127:
        raise ValueError(f"at most 127 classes, got {C}")
    if np.isnan(S).any() or (S == np.inf).any():
        raise ValueError("scores must be finite or -inf (a forbidden cell)")
    stay = np.ascontiguousarray(stay, dtype=np.float64)
    start = np.ascontiguousarray(start, dtype=np.float64)
    if stay.shape != (C,) or start.shape != (C,):
        raise ValueError(f"stay and start must have shape ({C},), got {stay.shape}, {start.shape}")
    if np.isnan(stay).any() or np.isnan(start).any() or (stay == np.inf).any():
        raise ValueError("stay and start must not be NaN or +inf")
    req = sorted({int(c) for c in required})
    if any(c < 0 or c >= C for c in req):
        raise ValueError(f"required classes must be in [0, {C}), got {req}")
    if len(req) > _MAX_REQUIRED:
        raise ValueError(f"at most {_MAX_REQUIRED} required classes, got {len(req)}")
    if T < len(req):
        raise ValueError(f"{T} frames cannot hold the {len(req)} required classes")
    bits = np.zeros(C, dtype=np.int64)
    for i, c in enumerate(req):
        bits[c] = 1 << i
    labels, value = _decode(S, bits, stay, start)
    if not np.isfinite(value):
        raise ValueError("no labelling contains every required class under this length model")
    return labels, float(value)


def segments_value(
    scores: np.ndarray, labels: np.ndarray, stay: np.ndarray, start: np.ndarray
) -> float:
    """The objective J of a labelling (see the module docstring); ``-inf`` if it uses a
    forbidden continuation."""
    S = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    total = float(S[np.arange(len(y)), y].sum())
    for t, c in enumerate(y):
        total += float(stay[c]) if t > 0 and y[t - 1] == c else float(start[c])
    return total
