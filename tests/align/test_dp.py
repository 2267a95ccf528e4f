"""Tests of the ordered-assignment DP against brute force and the authors' algorithm."""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instructvid.align.dp import (
    ordered_assignment,
    ordered_assignment_batch,
    ordered_assignment_labels,
    ordered_assignment_value,
    ordered_steps_stacked,
)

INF = math.inf
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------
# Brute-force twin
# ---------------------------------------------------------------------------


def is_valid_labelling(y, K: int, exactly_one: bool) -> bool:
    """Whether per-frame labels ``y`` in {0..K} obey the ordering rules of the variant."""
    y = list(y)
    first, last = [], []
    for s in range(1, K + 1):
        idx = [t for t, v in enumerate(y) if v == s]
        if not idx:
            return False
        if exactly_one and len(idx) != 1:
            return False
        if idx[-1] - idx[0] + 1 != len(idx):  # one contiguous run
            return False
        first.append(idx[0])
        last.append(idx[-1])
    if any(v < 0 or v > K for v in y):
        return False
    return all(last[s] < first[s + 1] for s in range(K - 1))


@functools.cache
def all_labellings(T: int, K: int, exactly_one: bool) -> np.ndarray:
    """All valid labellings as an (N, T) int array."""
    if exactly_one:
        rows = []
        for frames in itertools.combinations(range(T), K):
            y = [0] * T
            for s, t in enumerate(frames):
                y[t] = s + 1
            rows.append(y)
    else:
        rows = [
            y
            for y in itertools.product(range(K + 1), repeat=T)
            if is_valid_labelling(y, K, exactly_one=False)
        ]
    return np.array(rows, dtype=np.int64).reshape(-1, T)


def brute_force_optimum(S: np.ndarray, exactly_one: bool, maximize: bool) -> float | None:
    """Best objective over all valid labellings avoiding forbidden cells; None if none."""
    T, K = S.shape
    Y = all_labellings(T, K, exactly_one)
    ext = np.concatenate([np.zeros((T, 1)), S.astype(np.float64)], axis=1)
    cells = ext[np.arange(T)[None, :], Y]  # (N, T)
    forbidden_value = -INF if maximize else INF
    feasible = ~(cells == forbidden_value).any(axis=1)
    if not feasible.any():
        return None
    values = cells[feasible].sum(axis=1)
    return float(values.max() if maximize else values.min())


def labels_from_assignment(A: np.ndarray) -> np.ndarray:
    assert A.dtype == np.uint8
    assert set(np.unique(A).tolist()) <= {0, 1}
    assert (A.sum(axis=1) <= 1).all(), "more than one step on a frame"
    return np.where(A.any(axis=1), A.argmax(axis=1) + 1, 0)


# ---------------------------------------------------------------------------
# Pure-Python transcription of the authors' Cython dp (min form)
# ---------------------------------------------------------------------------


def authors_dp(C: np.ndarray, exactly_one: bool) -> tuple[np.ndarray, float]:
    """CrossTask ``dp(Y, C, exactly_one, bg_cost=0)``, line by line; returns (Y, cost).

    Only change: when state 2K is unreachable at the end (T == K) the original
    compares against an uninitialised value; here 2K-1 is taken.
    """
    T, K = C.shape
    K_ext = 2 * K + 1
    L = -np.ones((T + 1, K_ext))
    P = -np.ones((T + 1, K_ext), dtype=np.int64)
    L[0, 0] = 0
    P[0, 0] = 0
    opt_value = 0.0  # uninitialised in the Cython code; only read when irrelevant
    for t in range(1, T + 1):
        for k in range(K_ext):
            s = 0 if k % 2 == 0 else (k + 1) // 2
            opt_label = -1
            j = k
            if (
                (opt_label == -1 or opt_value > L[t - 1, j])
                and P[t - 1, j] != -1
                and (s == 0 or not exactly_one)
            ):
                opt_label = j
                opt_value = L[t - 1, j]
            j = k - 1
            if j >= 0 and (opt_label == -1 or opt_value > L[t - 1, j]) and P[t - 1, j] != -1:
                opt_label = j
                opt_value = L[t - 1, j]
            if s != 0:
                j = k - 2
                if j >= 0 and (opt_label == -1 or opt_value > L[t - 1, j]) and P[t - 1, j] != -1:
                    opt_label = j
                    opt_value = L[t - 1, j]
            L[t, k] = opt_value + (C[t - 1, s - 1] if s != 0 else 0.0)
            P[t, k] = opt_label
    if P[T, K_ext - 1] == -1:
        k = K_ext - 2
    elif L[T, K_ext - 1] < L[T, K_ext - 2] or P[T, K_ext - 2] == -1:
        k = K_ext - 1
    else:
        k = K_ext - 2
    cost = float(L[T, k])
    Y = np.zeros((T, K), dtype=np.uint8)
    for t in range(T, 0, -1):
        s = 0 if k % 2 == 0 else (k + 1) // 2
        if s > 0:
            Y[t - 1, s - 1] = 1
        k = P[t, k]
    return Y, cost


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------


@st.composite
def score_matrices(draw, max_T=7, max_K=3, values=(0.0, 1.0, 2.0), min_K=1):
    T = draw(st.integers(1, max_T))
    K = draw(st.integers(min(min_K, T), min(max_K, T)))
    flat = draw(st.lists(st.sampled_from(values), min_size=T * K, max_size=T * K))
    return np.array(flat, dtype=np.float64).reshape(T, K)


TIES = (0.0, 1.0, 2.0)
REALS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------------------
# Property tests against brute force
# ---------------------------------------------------------------------------


def check_against_brute_force(S: np.ndarray, exactly_one: bool, maximize: bool) -> None:
    T, K = S.shape
    best = brute_force_optimum(S, exactly_one, maximize)
    if best is None:
        with pytest.raises(ValueError, match="no feasible assignment"):
            ordered_assignment(S, exactly_one=exactly_one, maximize=maximize)
        return
    A = ordered_assignment(S, exactly_one=exactly_one, maximize=maximize)
    assert A.shape == (T, K)
    y = labels_from_assignment(A)
    assert is_valid_labelling(y, K, exactly_one), y
    np.testing.assert_array_equal(
        ordered_assignment_labels(S, exactly_one=exactly_one, maximize=maximize), y
    )
    forbidden_value = -INF if maximize else INF
    assert not (S[A.astype(bool)] == forbidden_value).any(), "used a forbidden cell"
    value = ordered_assignment_value(S, A)
    if math.isfinite(best):
        assert value == pytest.approx(best, rel=1e-12, abs=1e-9)
    else:
        assert value == best


@pytest.mark.parametrize("exactly_one", [True, False])
@pytest.mark.parametrize("maximize", [True, False])
@SETTINGS
@given(S=score_matrices(values=TIES))
def test_optimal_with_ties(S, exactly_one, maximize):
    check_against_brute_force(S, exactly_one, maximize)


@pytest.mark.parametrize("exactly_one", [True, False])
@pytest.mark.parametrize("maximize", [True, False])
@SETTINGS
@given(data=st.data())
def test_optimal_real_scores(data, exactly_one, maximize):
    T = data.draw(st.integers(1, 7))
    K = data.draw(st.integers(1, min(3, T)))
    flat = data.draw(st.lists(REALS, min_size=T * K, max_size=T * K))
    check_against_brute_force(np.array(flat).reshape(T, K), exactly_one, maximize)


@pytest.mark.parametrize("exactly_one", [True, False])
@SETTINGS
@given(S=score_matrices(values=(*TIES, -INF, -INF, INF)))
def test_forbidden_and_attractive_cells_maximize(S, exactly_one):
    # -inf forbidden, +inf infinitely attractive (optimum +inf).
    check_against_brute_force(S, exactly_one, maximize=True)


@pytest.mark.parametrize("exactly_one", [True, False])
@SETTINGS
@given(S=score_matrices(values=(*TIES, INF, INF, -INF)))
def test_forbidden_and_attractive_cells_minimize(S, exactly_one):
    check_against_brute_force(S, exactly_one, maximize=False)


@pytest.mark.parametrize("exactly_one", [True, False])
@SETTINGS
@given(S=score_matrices(max_T=6, max_K=4, values=(*TIES, -INF)))
def test_larger_K_exactly_one_and_forbidden(S, exactly_one):
    if not exactly_one and S.shape[1] == 4:
        S = S[:, :3]  # keep the at-least-once enumeration small
    check_against_brute_force(S, exactly_one, maximize=True)


@pytest.mark.parametrize("exactly_one", [True, False])
def test_all_infeasible_raises(exactly_one):
    S = np.full((5, 2), -INF)
    S[:, 0] = 1.0  # step 2 is forbidden everywhere
    with pytest.raises(ValueError, match="no feasible assignment"):
        ordered_assignment(S, exactly_one=exactly_one)
    with pytest.raises(ValueError, match="no feasible assignment"):
        ordered_assignment(-S, exactly_one=exactly_one, maximize=False)
    # Feasible only through a single path: step 1 at frame 3, step 2 at frame 4.
    S = np.full((5, 2), -INF)
    S[3, 0] = 0.0
    S[4, 1] = 0.0
    A = ordered_assignment(S, exactly_one=exactly_one)
    assert A[3, 0] == 1 and A[4, 1] == 1 and A.sum() == 2


def test_brute_force_enumeration_counts():
    # Sanity of the twin itself: |exactly-one| = C(T, K); |at-least-once| = C(T + K, 2K)
    # (runs a_1 <= b_1 < a_2 <= ... <= b_K biject with 2K-subsets of T + K slots).
    for T in range(1, 8):
        for K in range(1, min(T, 3) + 1):
            assert len(all_labellings(T, K, True)) == math.comb(T, K)
            assert len(all_labellings(T, K, False)) == math.comb(T + K, 2 * K)


# ---------------------------------------------------------------------------
# Exact tie-breaking against the authors' algorithm
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("exactly_one", [True, False])
@pytest.mark.parametrize("maximize", [True, False])
@settings(max_examples=200, deadline=None)
@given(S=score_matrices(max_T=12, max_K=5, values=(0.0, 1.0, 1.0, 2.0, INF)))
def test_tie_breaking_matches_authors(S, exactly_one, maximize):
    # The authors minimise C; maximising S is minimising C = -S. Forbidden cells are
    # +inf costs, i.e. -inf scores when maximising.
    C = -S if maximize else S
    S_in = -C if maximize else C
    Y_ref, cost = authors_dp(C, exactly_one)
    if cost == INF:
        with pytest.raises(ValueError, match="no feasible assignment"):
            ordered_assignment(S_in, exactly_one=exactly_one, maximize=maximize)
        return
    A = ordered_assignment(S_in, exactly_one=exactly_one, maximize=maximize)
    np.testing.assert_array_equal(A, Y_ref)


@pytest.mark.parametrize("exactly_one", [True, False])
def test_tie_breaking_matches_authors_long_videos(exactly_one):
    rng = np.random.default_rng(0)
    for _ in range(10):
        T = int(rng.integers(20, 80))
        K = int(rng.integers(1, 8))
        C = rng.integers(0, 3, size=(T, K)).astype(np.float64)
        Y_ref, _ = authors_dp(C, exactly_one)
        A = ordered_assignment(C, exactly_one=exactly_one, maximize=False)
        np.testing.assert_array_equal(A, Y_ref)
        A = ordered_assignment(-C, exactly_one=exactly_one, maximize=True)
        np.testing.assert_array_equal(A, Y_ref)


# ---------------------------------------------------------------------------
# Edge cases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("exactly_one", [True, False])
@pytest.mark.parametrize("maximize", [True, False])
def test_T_equals_K_forces_diagonal(exactly_one, maximize):
    rng = np.random.default_rng(1)
    for K in (1, 2, 5, 9):
        S = rng.normal(size=(K, K))
        A = ordered_assignment(S, exactly_one=exactly_one, maximize=maximize)
        np.testing.assert_array_equal(A, np.eye(K, dtype=np.uint8))
        # Even when the diagonal is the worst possible choice.
        S = np.full((K, K), 100.0)
        np.fill_diagonal(S, -100.0 if maximize else 100.0)
        A = ordered_assignment(S, exactly_one=exactly_one, maximize=maximize)
        np.testing.assert_array_equal(A, np.eye(K, dtype=np.uint8))


def test_K_equals_1():
    S = np.array([[0.5], [3.0], [-1.0], [2.5], [0.0]])
    A = ordered_assignment(S)
    np.testing.assert_array_equal(A[:, 0], [0, 1, 0, 0, 0])
    A = ordered_assignment(S, maximize=False)
    np.testing.assert_array_equal(A[:, 0], [0, 0, 1, 0, 0])
    # At least once: best contiguous run (maximum subarray, >= 1 frame).
    S1 = np.array([[0.5], [3.0], [-4.0], [2.5], [-0.5]])
    A = ordered_assignment(S1, exactly_one=False)
    np.testing.assert_array_equal(A[:, 0], [1, 1, 0, 0, 0])
    # Zero-score frames tie with background; the self-loop preference extends the run.
    A = ordered_assignment(S, exactly_one=False)
    np.testing.assert_array_equal(A[:, 0], [1, 1, 1, 1, 1])
    S2 = np.array([[-1.0], [3.0], [-1.0], [2.5], [-5.0]])
    A = ordered_assignment(S2, exactly_one=False)
    np.testing.assert_array_equal(A[:, 0], [0, 1, 1, 1, 0])
    # All negative: a single frame, the least bad one.
    A = ordered_assignment(-np.abs(S) - 1, exactly_one=False)  # [-1.5, -4, -2, -3.5, -1]
    np.testing.assert_array_equal(A[:, 0], [0, 0, 0, 0, 1])


def test_T_less_than_K_raises():
    with pytest.raises(ValueError, match=r"cannot place K=4 ordered steps in T=3 frames"):
        ordered_assignment(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"need T >= K"):
        ordered_assignment(np.zeros((0, 1)), exactly_one=False)


def test_nan_raises():
    S = np.zeros((5, 2))
    S[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ordered_assignment(S)
    with pytest.raises(ValueError, match="NaN"):
        ordered_assignment(S, exactly_one=False, maximize=False)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4), ()])
def test_wrong_ndim_raises(shape):
    with pytest.raises(ValueError, match=r"\(T, K\)"):
        ordered_assignment(np.zeros(shape))


def test_non_real_dtype_raises():
    with pytest.raises(ValueError, match="real-valued"):
        ordered_assignment(np.zeros((3, 2), dtype=complex))
    with pytest.raises(ValueError, match="real-valued"):
        ordered_assignment(np.array([["a", "b"]]))


def test_integer_float32_and_noncontiguous_inputs():
    rng = np.random.default_rng(2)
    S = rng.integers(-5, 6, size=(30, 4))
    expected = ordered_assignment(S.astype(np.float64))
    for variant in (S, S.astype(np.int8), S.astype(np.float32), np.asfortranarray(S), S.tolist()):
        np.testing.assert_array_equal(ordered_assignment(variant), expected)
    wide = rng.normal(size=(30, 8))
    np.testing.assert_array_equal(
        ordered_assignment(wide[:, ::2], exactly_one=False),
        ordered_assignment(np.ascontiguousarray(wide[:, ::2]), exactly_one=False),
    )
    assert ordered_assignment(S > 0).shape == (30, 4)  # bool input


def test_K_zero_returns_empty():
    for T in (0, 4):
        A = ordered_assignment(np.zeros((T, 0)))
        assert A.shape == (T, 0) and A.dtype == np.uint8
        assert ordered_assignment_labels(np.zeros((T, 0))).shape == (T,)


def test_input_not_modified_and_output_dtype():
    S = np.random.default_rng(3).normal(size=(20, 3))
    S_copy = S.copy()
    A = ordered_assignment(S, exactly_one=False)
    np.testing.assert_array_equal(S, S_copy)
    assert A.dtype == np.uint8 and A.flags.c_contiguous


def test_value_helper():
    S = np.array([[1.0, -INF], [2.0, 5.0], [INF, 3.0]])
    A = np.array([[1, 0], [0, 1], [0, 0]], dtype=np.uint8)
    assert ordered_assignment_value(S, A) == 6.0  # infinite unassigned cells are ignored
    assert ordered_assignment_value(S, np.zeros_like(A)) == 0.0
    with pytest.raises(ValueError):
        ordered_assignment_value(S, A[:2])


def test_attractive_infinity_is_used():
    S = np.zeros((6, 2))
    S[4, 0] = INF
    A = ordered_assignment(S)
    assert A[4, 0] == 1 and A[5, 1] == 1
    assert ordered_assignment_value(S, A) == INF


# ---------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------


def _varied_videos(seed: int = 4):
    rng = np.random.default_rng(seed)
    videos = []
    for i in range(60):
        T = int(rng.integers(1, 60))
        K = int(rng.integers(0, min(T, 9) + 1))
        if i % 10 == 0:
            K = 0
        if i % 10 == 1:
            K = min(T, 9)
            T = K  # T == K
        S = rng.integers(0, 3, size=(T, K)).astype(np.float64)  # ties
        if i % 3 == 0:
            S = rng.normal(size=(T, K)).astype(np.float32)
        videos.append(S)
    videos.append(np.zeros((0, 0)))
    return videos


@pytest.mark.parametrize("exactly_one", [True, False])
@pytest.mark.parametrize("maximize", [True, False])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_batch_equals_single_calls(exactly_one, maximize, n_jobs):
    videos = _varied_videos()
    out = ordered_assignment_batch(
        videos, exactly_one=exactly_one, maximize=maximize, n_jobs=n_jobs
    )
    assert len(out) == len(videos)
    for S, A in zip(videos, out, strict=True):
        expected = ordered_assignment(S, exactly_one=exactly_one, maximize=maximize)
        assert A.shape == S.shape and A.dtype == np.uint8
        np.testing.assert_array_equal(A, expected)


def test_batch_empty_and_errors():
    assert ordered_assignment_batch([]) == []
    good = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"video 1: cannot place K=3"):
        ordered_assignment_batch([good, np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"video 1: .*\(T, K\)"):
        ordered_assignment_batch([good, np.zeros(4)])
    bad = good.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="video 2: scores contain NaN"):
        ordered_assignment_batch([good, good, bad])
    forbidden = np.full((4, 2), -INF)
    for n_jobs in (1, 2):
        with pytest.raises(ValueError, match="video 1: no feasible assignment"):
            ordered_assignment_batch([good, forbidden], n_jobs=n_jobs)
    with pytest.raises(ValueError, match="n_jobs"):
        ordered_assignment_batch([good], n_jobs=0)


# ---------------------------------------------------------------------------
# Stacked videos of one task (the training batch)
# ---------------------------------------------------------------------------


@st.composite
def stacked_videos(draw):
    """1-4 videos with the same K, lengths T_i >= K, costs with ties and forbidden cells."""
    k = draw(st.integers(1, 3))
    lengths = draw(st.lists(st.integers(k, 7), min_size=1, max_size=4))
    values = (0.0, 1.0, 2.0, INF)
    flat = draw(st.lists(st.sampled_from(values), min_size=sum(lengths) * k,
                         max_size=sum(lengths) * k))  # fmt: skip
    return np.array(flat, dtype=np.float64).reshape(sum(lengths), k), np.array(lengths)


@SETTINGS
@given(batch=stacked_videos(), maximize=st.booleans())
def test_stacked_steps_are_the_single_video_assignments(batch, maximize):
    costs, lengths = batch
    if maximize:
        costs = np.where(np.isinf(costs), -INF, costs)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    videos = [costs[a:b] for a, b in itertools.pairwise(starts)]
    try:
        expected = [
            ordered_assignment(v, exactly_one=True, maximize=maximize).argmax(axis=0)
            for v in videos
        ]
    except ValueError:
        with pytest.raises(ValueError, match="no feasible assignment"):
            ordered_steps_stacked(costs, lengths, maximize=maximize)
        return
    rows = ordered_steps_stacked(costs, lengths, maximize=maximize)
    assert rows.shape == (len(lengths), costs.shape[1]) and rows.dtype == np.int64
    np.testing.assert_array_equal(rows, np.stack(expected))


def test_stacked_steps_errors_and_empty():
    assert ordered_steps_stacked(np.zeros((0, 2)), np.zeros(0, dtype=int)).shape == (0, 2)
    with pytest.raises(ValueError, match="do not add up"):
        ordered_steps_stacked(np.zeros((5, 2)), np.array([2, 2]))
    with pytest.raises(ValueError, match=r"video 1: cannot place K=2 ordered steps in T=1"):
        ordered_steps_stacked(np.zeros((4, 2)), np.array([3, 1]))
    forbidden = np.zeros((6, 2))
    forbidden[3:, 0] = INF  # video 1 cannot place step 1 before step 2
    with pytest.raises(ValueError, match=r"video 1: no feasible assignment"):
        ordered_steps_stacked(forbidden, np.array([3, 3]))
