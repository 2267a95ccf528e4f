import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from instructvid.metrics.ap import average_precision


def _sklearn_ap(scores: np.ndarray, labels: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(average_precision_score(labels, scores))


@st.composite
def _tied_problem(draw):
    n = draw(st.integers(min_value=1, max_value=60))
    n_levels = draw(st.integers(min_value=1, max_value=6))
    scores = draw(st.lists(st.integers(0, n_levels - 1), min_size=n, max_size=n))
    labels = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    pos = draw(st.integers(0, n - 1))
    labels[pos] = True  # AP needs at least one positive
    return np.array(scores, dtype=np.float64), np.array(labels)


@st.composite
def _float_problem(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    values = st.floats(allow_nan=False, allow_infinity=False, width=32)
    # Draw from a small pool so that exact ties (incl. 0.0 vs -0.0) are common.
    pool = draw(st.lists(values, min_size=1, max_size=8))
    scores = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    labels[draw(st.integers(0, n - 1))] = 1
    return np.array(scores, dtype=np.float32), np.array(labels, dtype=np.int64)


@settings(max_examples=400, deadline=None)
@given(_tied_problem())
def test_matches_sklearn_with_many_ties(problem):
    scores, labels = problem
    assert abs(average_precision(scores, labels) - _sklearn_ap(scores, labels)) <= 1e-12


@settings(max_examples=300, deadline=None)
@given(_float_problem())
def test_matches_sklearn_on_float_scores(problem):
    scores, labels = problem
    assert abs(average_precision(scores, labels) - _sklearn_ap(scores, labels)) <= 1e-12


def test_matches_sklearn_on_large_input():
    rng = np.random.default_rng(0)
    n = 300_000
    labels = rng.random(n) < 0.07
    # Coarse scores: many large tie groups, correlated with the labels.
    scores = np.round(rng.normal(size=n) + 1.5 * labels, 1).astype(np.float32)
    assert abs(average_precision(scores, labels) - _sklearn_ap(scores, labels)) <= 1e-12


def test_hand_computed_with_tie():
    # Ranked: 0.9 (+), {0.8 (-), 0.8 (+)} one threshold, 0.3 (-), 0.1 (+); 3 positives.
    #   threshold 0.9: TP=1, predicted=1 -> P=1,   R=1/3
    #   threshold 0.8: TP=2, predicted=3 -> P=2/3, R=2/3
    #   threshold 0.3: TP=2, predicted=4 -> R unchanged, contributes 0
    #   threshold 0.1: TP=3, predicted=5 -> P=3/5, R=1
    # AP = 1/3*1 + 1/3*2/3 + 1/3*3/5 = 34/45.
    scores = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    labels = np.array([1, 0, 1, 0, 1])
    assert average_precision(scores, labels) == pytest.approx(34 / 45, abs=1e-15)
    # Ties are one threshold: the order of items inside a tie does not matter
    # (breaking the tie positive-first would give 1/3 + 1/3 + 1/5 = 13/15).
    assert average_precision(scores[[0, 2, 1, 3, 4]], labels[[0, 2, 1, 3, 4]]) == pytest.approx(
        34 / 45, abs=1e-15
    )


def test_all_tied_gives_prevalence():
    labels = np.array([1, 0, 0, 1, 0, 0, 0, 0])
    assert average_precision(np.zeros(8), labels) == pytest.approx(2 / 8)


def test_no_positive_returns_nan_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(average_precision(np.array([0.3, 0.2, 0.9]), np.array([0, 0, 0])))
        assert np.isnan(average_precision(np.array([]), np.array([], dtype=bool)))


def test_all_positive_gives_one():
    assert average_precision(np.array([0.3, 0.2, 0.2, -5.0]), np.ones(4, dtype=bool)) == 1.0
    assert average_precision(np.array([0.0, 0.0]), np.array([1, 1])) == 1.0


def test_perfect_and_worst_ranking():
    labels = np.array([1, 1, 0, 0, 0])
    assert average_precision(np.array([5.0, 4, 3, 2, 1]), labels) == 1.0
    # Positives ranked last: P at hits = 1/4, 2/5 -> AP = (1/4 + 2/5) / 2.
    assert average_precision(np.array([1.0, 2, 3, 4, 5]), labels) == pytest.approx(0.325)


def test_accepts_bool_and_float_labels_equally():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, size=50).astype(float)
    labels = rng.random(50) < 0.4
    expected = average_precision(scores, labels)
    assert average_precision(scores, labels.astype(float)) == expected
    assert average_precision(scores, labels.astype(np.int8)) == expected


@pytest.mark.parametrize(
    ("scores", "labels", "match"),
    [
        (np.array([0.1, 0.2]), np.array([1, 0, 1]), "length"),
        (np.ones((2, 2)), np.ones((2, 2)), "1-D"),
        (np.array([0.1, np.nan]), np.array([1, 0]), "finite"),
        (np.array([0.1, np.inf]), np.array([1, 0]), "finite"),
        (np.array([0.1, 0.2]), np.array([1, 2]), "0 and 1"),
        (np.array([0.1, 0.2]), np.array([0.5, 1.0]), "0 and 1"),
        (np.array(["a", "b"]), np.array([0, 1]), "numeric"),
    ],
)
def test_validation_errors(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        average_precision(scores, labels)
