"""The unordered (action-set) decoder against brute force over every labelling."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instructvid.align.unordered import geometric_length_model, segments_value, unordered_decode

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def brute_force(S, required, stay, start) -> float | None:
    """Best J over all labellings that contain every required class; None if none does."""
    T, C = S.shape
    best = None
    for y in itertools.product(range(C), repeat=T):
        if not set(required) <= set(y):
            continue
        value = segments_value(S, np.array(y), stay, start)
        if value == -math.inf:
            continue
        best = value if best is None else max(best, value)
    return best


@st.composite
def problems(draw):
    C = draw(st.integers(1, 4))
    T = draw(st.integers(1, 6 if C <= 3 else 5))
    cells = st.one_of(
        st.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 2)),
        st.just(-math.inf),  # forbidden cell
    )
    S = np.array(draw(st.lists(cells, min_size=T * C, max_size=T * C))).reshape(T, C)
    required = draw(st.lists(st.integers(0, C - 1), max_size=C, unique=True))
    means = draw(st.lists(st.floats(1.0, 8.0), min_size=C, max_size=C))
    stay, start = geometric_length_model(np.array(means))
    return S, required, stay, start


def check(S, required, stay, start) -> None:
    expected = brute_force(S, required, stay, start)
    if expected is None:
        with pytest.raises(ValueError):
            unordered_decode(S, required, stay, start)
        return
    labels, value = unordered_decode(S, required, stay, start)
    assert set(required) <= set(labels.tolist())  # every class of the set occurs
    assert value == pytest.approx(expected, abs=1e-9)
    assert segments_value(S, labels, stay, start) == pytest.approx(value, abs=1e-9)


@SETTINGS
@given(problems())
def test_matches_brute_force(problem) -> None:
    check(*problem)


@SETTINGS
@given(problems(), st.floats(-3, 3))
def test_arbitrary_length_scores_match_brute_force(problem, shift) -> None:
    """Not only geometric models: any finite stay/start scores."""
    S, required, _, _ = problem
    C = S.shape[1]
    rng = np.random.default_rng(abs(int(shift * 1000)))
    stay = rng.normal(size=C) + shift
    start = rng.normal(size=C)
    check(S, required, stay, start)


def test_any_order_is_allowed() -> None:
    """Steps in reverse order are found (an ordered decoder could not)."""
    S = np.full((6, 3), -5.0)
    S[0:2, 2] = S[2:4, 1] = S[4:6, 0] = 0.0
    stay, start = np.zeros(3), np.zeros(3)
    labels, value = unordered_decode(S, [0, 1, 2], stay, start)
    assert labels.tolist() == [2, 2, 1, 1, 0, 0]
    assert value == 0.0


def test_required_class_is_forced_in() -> None:
    S = np.array([[0.0, -10.0], [0.0, -10.0], [0.0, -10.0]])
    labels, value = unordered_decode(S, [1], np.zeros(2), np.zeros(2))
    assert (labels == 1).sum() == 1
    assert value == -10.0


def test_length_model_splits_long_segments() -> None:
    """A short mean length makes two segments of one class cheaper than one long one only if
    the class in between pays for itself; a long mean keeps one segment."""
    S = np.zeros((8, 2))
    stay, start = geometric_length_model(np.array([8.0, 8.0]))
    labels, _ = unordered_decode(S, [0, 1], stay, start)
    assert len(np.flatnonzero(np.diff(labels))) == 1  # two segments, one change


def test_errors() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        unordered_decode(np.zeros((2, 3)), [0, 1, 2], np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="finite or -inf"):
        unordered_decode(np.full((2, 2), np.nan), [0], np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        unordered_decode(np.zeros((2, 2)), [0], np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="required classes must be in"):
        unordered_decode(np.zeros((2, 2)), [2], np.zeros(2), np.zeros(2))
    one_frame = np.full(2, -np.inf), np.zeros(2)
    with pytest.raises(ValueError, match="no labelling"):
        unordered_decode(np.array([[0.0, -np.inf]]), [1], np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="no labelling"):
        # one-frame segments of one class: two frames need two classes, but both are class 0
        unordered_decode(np.zeros((2, 1)), [0], np.full(1, -np.inf), np.zeros(1))
    labels, _ = unordered_decode(np.zeros((3, 2)), [0, 1], *one_frame)
    assert labels.tolist() in ([0, 1, 0], [1, 0, 1])
