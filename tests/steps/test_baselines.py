"""The uniform baseline, exactly as the authors' code places steps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from instructvid.steps.baselines import uniform_assignment


def test_hand_computed_positions() -> None:
    # T=10, K=3: step size 10/3; seconds round(10/3*0.5)=2, round(5.0)=5, round(8.33)=8.
    y = uniform_assignment(10, 3)
    assert [int(np.flatnonzero(y[:, k])[0]) for k in range(3)] == [2, 5, 8]


def test_t_equal_k_matches_python_round() -> None:
    # Banker's rounding: round(0.5)=0, round(1.5)=2, round(2.5)=2. Columns stay one-hot.
    y = uniform_assignment(3, 3)
    assert [int(np.flatnonzero(y[:, k])[0]) for k in range(3)] == [0, 2, 2]


def test_t_equal_even_k_is_clipped_inside_the_video() -> None:
    # round(3.5) == 4 == T: the authors' code raises IndexError; we clip to the last second.
    y = uniform_assignment(4, 4)
    assert [int(np.flatnonzero(y[:, k])[0]) for k in range(4)] == [0, 2, 2, 3]


@given(k=st.integers(1, 12), extra=st.integers(1, 400))
def test_one_second_per_step_in_order(k: int, extra: int) -> None:
    t = k + extra
    y = uniform_assignment(t, k)
    assert y.shape == (t, k)
    assert (y.sum(axis=0) == 1).all()
    positions = y.argmax(axis=0)
    assert (np.diff(positions) >= 0).all()
    expected = [round(t / k * (j + 0.5)) for j in range(k)]
    assert positions.tolist() == expected


def test_too_short_video_is_an_error() -> None:
    with pytest.raises(ValueError, match="need T >= K"):
        uniform_assignment(2, 3)
