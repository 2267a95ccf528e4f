"""Ordered-assignment dynamic programme (thesis appendix A.1.2, CrossTask).

Problem
-------
A video has ``T`` frames (one per second in CrossTask) and a task has ``K``
ordered steps. Given a score matrix ``S`` of shape ``(T, K)``, choose one label
``y_t ∈ {0, 1, …, K}`` per frame (``0`` = background) such that the steps
appear in the order ``1, …, K``, each at least once, and the objective

    J(y) = Σ_{t : y_t > 0} S[t, y_t − 1]          (background contributes 0)

is maximal (``maximize=True``) or minimal (``maximize=False``). Two variants:

``exactly_one=True``
    Every step gets exactly one frame, at strictly increasing frames
    ``t_1 < t_2 < … < t_K``; every other frame is background. This is the
    variant used for inference / evaluation.
``exactly_one=False`` ("at least once")
    Every step covers one contiguous run of ``>= 1`` frames; the runs appear
    in the order ``1, …, K``; background may occur before, between and after
    the runs; a step is never revisited after it has been left.

State machine
-------------
``2K + 1`` states: state ``0`` is background before step 1, state ``2s − 1``
is "in step ``s``" and state ``2s`` is "background after step ``s``". Going
from state ``j`` at frame ``t − 1`` to state ``k`` at frame ``t`` is allowed if

* ``k == j`` (self-loop): always for background states, for step states only
  when ``exactly_one=False``;
* ``k == j + 1``;
* ``k == j + 2`` for step states ``k`` (step ``s − 1`` directly followed by
  step ``s`` with no background in between).

The path starts in state 0 before the first frame and must end in state
``2K − 1`` or ``2K``. Time is ``O(KT)``, memory is ``O(KT)`` bytes of ``uint8``
backpointer offsets plus ``O(K)`` floats.

Tie-breaking (matches the authors' Cython ``dp``)
-------------------------------------------------
The reference implementation (CrossTask ``dp/dp.pyx``, ``dp(Y, C,
exactly_one, bg_cost=0)``) *minimises* a cost ``C``. This module runs exactly
that minimisation on ``C = −S`` when maximising (the negation is exact, so ties
stay ties) and on ``C = S`` when minimising, with the same tie rules:

* among the predecessors of a state, candidates are visited in the order
  self-loop, ``j = k − 1``, ``j = k − 2`` and the incumbent is replaced only by
  a *strictly* smaller cumulative cost (so the earliest-listed one wins ties);
* at the last frame, state ``2K`` (trailing background) is chosen if its cost
  is strictly smaller than that of state ``2K − 1`` or if ``2K − 1`` is
  unreachable, otherwise ``2K − 1``.

One deliberate deviation: when ``2K`` is unreachable at the last frame (which
happens iff ``T == K``, where step ``K`` must sit on the last frame) the
authors' code compares against an uninitialised value and can then backtrack
from an unreachable state; here ``2K − 1`` is chosen, the only valid end.

Infinite scores
---------------
A cell that would make the objective ``−∞`` when maximising (score ``−inf``)
or ``+∞`` when minimising (score ``+inf``) is *forbidden*: no returned
labelling uses it, and if every ordered labelling uses a forbidden cell a
``ValueError`` is raised. The opposite infinity (``+inf`` when maximising,
``−inf`` when minimising) is an infinitely attractive cell: the optimum
objective is then ``±inf`` and a labelling attaining it is returned (ties among
such labellings follow the rules above with ``inf == inf``). NaN is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
from numba import njit, prange

__all__ = [
    "ordered_assignment",
    "ordered_assignment_batch",
    "ordered_assignment_labels",
    "ordered_assignment_value",
    "ordered_steps_stacked",
]

_INFEASIBLE_MSG = "no feasible assignment: every ordered assignment uses a forbidden cell"

# Kernel status codes.
_OK = 0
_INFEASIBLE = 1


# ---------------------------------------------------------------------------
# Compiled kernels (pure: no validation, no Python objects)
# ---------------------------------------------------------------------------


@njit(cache=True, nogil=True, boundscheck=False)
def _dp_core(C, sign, exactly_one, L, bp, labels):  # pragma: no cover - compiled
    """Forward pass + backtracking for one video, in min form.

    C: (T, K) float64 scores; the cost of cell (t, s) is ``sign * C[t, s]``.
    L: (2K+1,) float64 workspace; bp: (T, 2K+1) uint8 workspace (offsets);
    labels: (T,) int64 output, filled with 0..K. Returns a status code.
    Requires T >= K >= 1.

    ``L[k]`` is the best cumulative cost of ending the current frame in state
    k; ``+inf`` means unreachable (structurally, or only through forbidden
    cells). ``L`` is updated in place in increasing k order; the previous
    frame's values of states k-2 and k-1, already overwritten, are carried in
    locals (this keeps the loop free of store-to-load round trips).
    """
    T = C.shape[0]
    K = C.shape[1]
    n = 2 * K + 1
    inf = np.inf
    for k in range(n):
        L[k] = inf
    L[0] = 0.0
    for t in range(T):
        row = bp[t]
        crow = C[t]
        row[0] = 0  # state 0 keeps its value: self-loop, background cost 0
        old_km2 = inf  # previous-frame L[k - 2] (no state -1)
        old_km1 = L[0]  # previous-frame L[k - 1]
        for s in range(1, K + 1):
            k = 2 * s - 1
            old_k = L[k]
            old_kp1 = L[k + 1]
            # Step state k = 2s - 1: predecessors self (if allowed), k - 1, k - 2,
            # in that order, replaced only on a strictly smaller cost.
            if exactly_one:
                best = old_km1
                off = 1
            else:
                best = old_k
                off = 0
                if old_km1 < best:
                    best = old_km1
                    off = 1
            if old_km2 < best:  # k - 2 is "step s - 1" (inf for s == 1)
                best = old_km2
                off = 2
            c = sign * crow[s - 1]
            v = best + c
            if best == inf or c == inf:
                v = inf  # unreachable or forbidden cell (also avoids -inf + inf)
            L[k] = v
            row[k] = off
            # Background state k + 1 = 2s: predecessors self, then k.
            b = old_kp1
            o = 0
            if old_k < b:
                b = old_k
                o = 1
            L[k + 1] = b
            row[k + 1] = o
            old_km2 = old_k
            old_km1 = old_kp1
    a = L[n - 2]  # in step K
    b = L[n - 1]  # background after step K
    if a == inf and b == inf:
        return _INFEASIBLE
    k = n - 1 if b < a else n - 2
    for t in range(T - 1, -1, -1):
        labels[t] = (k + 1) >> 1 if k & 1 else 0
        k -= bp[t, k]
    return _OK


@njit(cache=True, nogil=True, boundscheck=False)
def _solve_one(C, sign, exactly_one):  # pragma: no cover - compiled
    """One video: returns (status, labels (T,) int64, assignment (T, K) uint8)."""
    T = C.shape[0]
    K = C.shape[1]
    L = np.empty(2 * K + 1, dtype=np.float64)
    bp = np.empty((T, 2 * K + 1), dtype=np.uint8)
    labels = np.zeros(T, dtype=np.int64)
    out = np.zeros((T, K), dtype=np.uint8)
    status = _dp_core(C, sign, exactly_one, L, bp, labels)
    if status == _OK:
        for t in range(T):
            lab = labels[t]
            if lab > 0:
                out[t, lab - 1] = 1
    return status, labels, out


@njit(cache=True, nogil=True, boundscheck=False)
def _solve_batch_serial(flat, offs, Ts, Ks, sign, exactly_one, out, rows):  # pragma: no cover
    """All videos of a flat row-major buffer, one thread, shared workspaces.

    Video i occupies ``flat[offs[i] : offs[i] + Ts[i] * Ks[i]]`` as a (T_i, K_i)
    matrix. Writes the assignment into ``out`` (zeroed uint8, same layout as
    ``flat``; skipped when empty) and/or the frame of each step into ``rows``
    ((n, max K) int64, ``rows[i, s]`` = the (last) frame of step s + 1; skipped
    when it has no row). Returns one status code per video.
    """
    n_videos = Ts.shape[0]
    write_out = out.shape[0] > 0
    write_rows = rows.shape[0] > 0
    status = np.zeros(n_videos, dtype=np.int64)
    max_states = 1
    max_bp = 1
    max_t = 1
    for i in range(n_videos):
        ns = 2 * Ks[i] + 1
        if ns > max_states:
            max_states = ns
        if Ts[i] * ns > max_bp:
            max_bp = Ts[i] * ns
        if Ts[i] > max_t:
            max_t = Ts[i]
    L = np.empty(max_states, dtype=np.float64)
    bp_ws = np.empty(max_bp, dtype=np.uint8)
    lab_ws = np.empty(max_t, dtype=np.int64)
    for i in range(n_videos):
        T = Ts[i]
        K = Ks[i]
        if K == 0:
            continue
        o = offs[i]
        C = flat[o : o + T * K].reshape((T, K))
        bp = bp_ws[: T * (2 * K + 1)].reshape((T, 2 * K + 1))
        st = _dp_core(C, sign, exactly_one, L, bp, lab_ws)
        status[i] = st
        if st == _OK:
            for t in range(T):
                lab = lab_ws[t]
                if lab > 0:
                    if write_out:
                        out[o + t * K + lab - 1] = 1
                    if write_rows:
                        rows[i, lab - 1] = t
    return status


@njit(cache=True, nogil=True, boundscheck=False)
def _solve_stacked(flat, Ts, K, sign, rows):  # pragma: no cover - compiled
    """Exactly-one steps of videos of ``Ts`` frames and ``K`` steps stacked in ``flat``, into
    ``rows`` (n, K); returns the index of the first infeasible video, or -1."""
    n_videos = Ts.shape[0]
    offs = np.empty(n_videos, dtype=np.int64)
    Ks = np.full(n_videos, K, dtype=np.int64)
    o = 0
    for i in range(n_videos):
        offs[i] = o
        o += Ts[i] * K
    status = _solve_batch_serial(flat, offs, Ts, Ks, sign, True, np.zeros(0, dtype=np.uint8), rows)
    for i in range(n_videos):
        if status[i] != _OK:
            return i
    return -1


@njit(cache=True, nogil=True, parallel=True, boundscheck=False)
def _solve_batch_parallel(flat, offs, Ts, Ks, sign, exactly_one):  # pragma: no cover
    """Same as :func:`_solve_batch_serial`, videos spread over numba threads."""
    n_videos = Ts.shape[0]
    out = np.zeros(flat.shape[0], dtype=np.uint8)
    status = np.zeros(n_videos, dtype=np.int64)
    for i in prange(n_videos):
        T = Ts[i]
        K = Ks[i]
        if K == 0:
            continue
        o = offs[i]
        C = flat[o : o + T * K].reshape((T, K))
        L = np.empty(2 * K + 1, dtype=np.float64)
        bp = np.empty((T, 2 * K + 1), dtype=np.uint8)
        lab = np.empty(T, dtype=np.int64)
        st = _dp_core(C, sign, exactly_one, L, bp, lab)
        status[i] = st
        if st == _OK:
            for t in range(T):
                if lab[t] > 0:
                    out[o + t * K + lab[t] - 1] = 1
    return out, status


# ---------------------------------------------------------------------------
# Python boundary: validation and conversion happen here, once.
# ---------------------------------------------------------------------------


def _as_scores(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    """Validate shape/dtype and return a C-contiguous float64 (T, K) array (no NaN check)."""
    arr = np.asarray(scores)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (T, K) = (frames, steps), got shape {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_) or np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued, got dtype {arr.dtype}")
    T, K = arr.shape
    if T < K:
        raise ValueError(f"cannot place K={K} ordered steps in T={T} frames: need T >= K")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _solve(scores: np.ndarray, exactly_one: bool, maximize: bool) -> tuple[np.ndarray, np.ndarray]:
    C = _as_scores(scores)
    T, K = C.shape
    if K == 0:
        return np.zeros(T, dtype=np.int64), np.zeros((T, 0), dtype=np.uint8)
    if np.isnan(C).any():
        raise ValueError("scores contain NaN")
    status, labels, out = _solve_one(C, -1.0 if maximize else 1.0, bool(exactly_one))
    if status != _OK:
        raise ValueError(_INFEASIBLE_MSG)
    return labels, out


def ordered_assignment(
    scores: np.ndarray, *, exactly_one: bool = True, maximize: bool = True
) -> np.ndarray:
    """Optimal ordered assignment of ``K`` steps to the ``T`` frames of a video.

    Solves the ordered-assignment DP described in the module docstring in
    ``O(KT)`` time.

    Parameters
    ----------
    scores:
        Shape ``(T, K)``: ``scores[t, k]`` is the score (or cost, if
        ``maximize=False``) of labelling frame ``t`` (one frame = one second in
        CrossTask) with step ``k + 1``. Any real dtype (converted to float64).
        ``-inf`` (maximising) / ``+inf`` (minimising) marks a forbidden cell.
        NaN is not allowed.
    exactly_one:
        If True each step gets exactly one frame (strictly increasing frames);
        if False each step gets one contiguous run of at least one frame.
    maximize:
        Maximise (True) or minimise (False) the summed score of the labelled
        cells; background frames contribute 0.

    Returns
    -------
    np.ndarray
        Shape ``(T, K)``, dtype ``uint8``, values in ``{0, 1}``; at most one 1
        per row; column ``k`` has exactly one 1 (``exactly_one=True``) or one
        contiguous run of ones (``exactly_one=False``), and the columns' ones
        are in increasing frame order. ``K == 0`` gives a ``(T, 0)`` array.
        Ties are broken as in the authors' Cython ``dp`` (see module doc).

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D, not real-valued, contains NaN, has ``T < K``,
        or every ordered assignment uses a forbidden cell.
    """
    return _solve(scores, exactly_one, maximize)[1]


def ordered_assignment_labels(
    scores: np.ndarray, *, exactly_one: bool = True, maximize: bool = True
) -> np.ndarray:
    """Per-frame labels of :func:`ordered_assignment`.

    Parameters
    ----------
    scores, exactly_one, maximize:
        As in :func:`ordered_assignment`; ``scores`` has shape ``(T, K)``.

    Returns
    -------
    np.ndarray
        Shape ``(T,)``, dtype ``int64``: ``0`` for background, ``s`` in
        ``1..K`` for frames assigned to step ``s``. Same optimum and tie-breaking
        as :func:`ordered_assignment` (``labels[t] == s`` iff
        ``assignment[t, s - 1] == 1``).

    Raises
    ------
    ValueError
        As :func:`ordered_assignment`.
    """
    return _solve(scores, exactly_one, maximize)[0]


def ordered_assignment_value(scores: np.ndarray, assignment: np.ndarray) -> float:
    """Objective of an assignment: the sum of ``scores`` over the assigned cells.

    Parameters
    ----------
    scores:
        Shape ``(T, K)``, real-valued (same units as the scores).
    assignment:
        Shape ``(T, K)``, 0/1 (or bool) matrix, e.g. from :func:`ordered_assignment`.

    Returns
    -------
    float
        ``Σ scores[t, k]`` over cells with ``assignment[t, k] != 0``; unassigned
        cells are ignored even if infinite (no ``0 * inf`` NaN). ``±inf`` if an
        assigned cell is infinite; ``0.0`` for an empty assignment.

    Raises
    ------
    ValueError
        If the shapes differ or are not 2-D.
    """
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(assignment)
    if s.ndim != 2 or s.shape != a.shape:
        raise ValueError(
            f"scores and assignment must both have shape (T, K), got {s.shape} and {a.shape}"
        )
    return float(s[a.astype(bool)].sum())


def ordered_assignment_batch(
    score_list: Sequence[np.ndarray],
    *,
    exactly_one: bool = True,
    maximize: bool = True,
    n_jobs: int = 1,
) -> list[np.ndarray]:
    """:func:`ordered_assignment` for many videos in one compiled call.

    The videos may differ in length ``T_i`` and in number of steps ``K_i``;
    they are packed into one flat float64 buffer and solved by a single numba
    loop (shared workspaces, no per-video Python overhead in the solver).

    Parameters
    ----------
    score_list:
        ``N`` arrays, array ``i`` of shape ``(T_i, K_i)`` with ``T_i >= K_i``,
        as in :func:`ordered_assignment`.
    exactly_one, maximize:
        As in :func:`ordered_assignment`, shared by all videos.
    n_jobs:
        Number of numba threads. ``1`` (default) runs the single-threaded
        kernel; ``> 1`` spreads videos over ``min(n_jobs, NUMBA_NUM_THREADS)``
        threads with ``prange``; ``-1`` uses all numba threads.

    Returns
    -------
    list[np.ndarray]
        ``N`` uint8 arrays, array ``i`` of shape ``(T_i, K_i)``, each equal to
        ``ordered_assignment(score_list[i], ...)``. They are non-overlapping
        views into one shared buffer.

    Raises
    ------
    ValueError
        As :func:`ordered_assignment`; the message names the offending video
        index. ``n_jobs == 0`` or ``< -1`` is rejected.
    """
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be -1 or a positive integer, got {n_jobs}")
    arrays = []
    for i, x in enumerate(score_list):
        try:
            arrays.append(_as_scores(x, name=f"score_list[{i}]"))
        except ValueError as e:
            raise ValueError(f"video {i}: {e}") from None
    n = len(arrays)
    if n == 0:
        return []
    shapes = np.array([a.shape for a in arrays], dtype=np.int64).reshape(n, 2)
    Ts = np.ascontiguousarray(shapes[:, 0])
    Ks = np.ascontiguousarray(shapes[:, 1])
    sizes = Ts * Ks
    offs = np.zeros(n, dtype=np.int64)
    np.cumsum(sizes[:-1], out=offs[1:])
    flat = np.concatenate([a.reshape(-1) for a in arrays])
    if np.isnan(flat).any():
        bad = next(i for i, a in enumerate(arrays) if np.isnan(a).any())
        raise ValueError(f"video {bad}: scores contain NaN")
    sign = -1.0 if maximize else 1.0
    if n_jobs == 1:
        out = np.zeros(flat.shape[0], dtype=np.uint8)
        no_rows = np.zeros((0, 0), dtype=np.int64)
        status = _solve_batch_serial(flat, offs, Ts, Ks, sign, bool(exactly_one), out, no_rows)
    else:
        max_threads = numba.config.NUMBA_NUM_THREADS
        n_threads = max_threads if n_jobs == -1 else min(n_jobs, max_threads)
        previous = numba.get_num_threads()
        numba.set_num_threads(n_threads)
        try:
            out, status = _solve_batch_parallel(flat, offs, Ts, Ks, sign, bool(exactly_one))
        finally:
            numba.set_num_threads(previous)
    if status.any():
        bad = int(np.flatnonzero(status)[0])
        raise ValueError(f"video {bad}: {_INFEASIBLE_MSG}")
    return [
        out[o : o + s].reshape(t, k)
        for o, s, t, k in zip(offs.tolist(), sizes.tolist(), Ts.tolist(), Ks.tolist(), strict=True)
    ]


def ordered_steps_stacked(
    costs: np.ndarray, lengths: np.ndarray, *, maximize: bool = False
) -> np.ndarray:
    """Exactly-one assignment of ``K`` steps in each of ``n`` videos stacked in one array.

    The batch form training needs: the videos of one task (same ``K``) arrive as one
    ``(Σ T_i, K)`` array, video ``i`` in rows ``sum(lengths[:i]) … + lengths[i]``; they are
    solved in one compiled call on that buffer, without repacking (same solver and tie-breaking
    as :func:`ordered_assignment` with ``exactly_one=True``).

    Parameters
    ----------
    costs:
        Shape ``(Σ T_i, K)``, real; minimised (``maximize=False``, default) or maximised.
        ``+inf`` (minimising) / ``-inf`` (maximising) marks a forbidden cell. NaN is not
        checked here (the result is then unspecified).
    lengths:
        Shape ``(n,)``, integers: ``T_i`` of each video (frames, one per second in CrossTask),
        each ``>= K``.
    maximize:
        Maximise instead of minimise the summed cells.

    Returns
    -------
    np.ndarray
        Shape ``(n, K)``, dtype ``int64``: the frame (0-based, within its video) of each step,
        increasing along each row.

    Raises
    ------
    ValueError
        If ``costs`` is not 2-D, the lengths do not add up to its rows, a video is shorter
        than ``K`` or has no feasible assignment (the message names its index).
    """
    c = np.ascontiguousarray(costs, dtype=np.float64)
    ts = np.ascontiguousarray(lengths, dtype=np.int64).reshape(-1)
    if c.ndim != 2:
        raise ValueError(f"costs must have shape (sum of T_i, K), got {c.shape}")
    n, k = len(ts), c.shape[1]
    listed = ts.tolist()  # Python arithmetic: faster than NumPy reductions on a few numbers
    short = next((i for i, t in enumerate(listed) if t < k), None)
    if short is not None:
        raise ValueError(
            f"video {short}: cannot place K={k} ordered steps in T={listed[short]} frames"
        )
    if sum(listed) != c.shape[0]:
        raise ValueError(f"lengths {listed} do not add up to the {c.shape[0]} rows of costs")
    rows = np.zeros((n, k), dtype=np.int64)
    if n == 0 or k == 0:
        return rows
    bad = _solve_stacked(c.reshape(-1), ts, k, -1.0 if maximize else 1.0, rows)
    if bad >= 0:
        raise ValueError(f"video {bad}: {_INFEASIBLE_MSG}")
    return rows
