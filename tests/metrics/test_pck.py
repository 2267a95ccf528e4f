"""PCK in 3D (thesis §5.5.1): hand examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from instructvid.metrics.pck import (
    keypoint_errors,
    mean_pck_curve,
    parse_tolerances,
    pck,
    pck_curve,
)


def test_pck_hand_example():
    # errors of 4 keypoints in cm: 1, 4.9, 5 (on the boundary: correct), 12
    errors = [1.0, 4.9, 5.0, 12.0]
    assert pck(errors, 5.0) == 0.75
    assert pck(errors, 0.5) == 0.0
    assert pck(errors, 12.0) == 1.0
    np.testing.assert_allclose(pck_curve(errors, [1, 5, 10, 30]), [0.25, 0.75, 0.75, 1.0])


def test_untransferred_keypoints_count_as_wrong():
    assert pck([1.0, math.inf, float("nan"), 2.0], 10.0) == 0.5


def test_mean_over_pairs_weights_pairs_equally():
    # pair 1: 1 of 1 correct; pair 2: 1 of 4 correct -> mean 0.625 (not 2/5)
    curve = mean_pck_curve([[1.0], [1.0, 50.0, 50.0, 50.0]], [10.0])
    np.testing.assert_allclose(curve, [0.625])
    assert np.isnan(mean_pck_curve([], [1.0])).all()


def test_keypoint_errors_euclidean():
    pred = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    gt = np.array([[3.0, 4.0, 0.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(keypoint_errors(pred, gt), [5.0, 0.0])
    with pytest.raises(ValueError):
        keypoint_errors(pred, gt[:1])


def test_parse_tolerances():
    assert parse_tolerances("1:30") == [float(i) for i in range(1, 31)]
    assert parse_tolerances("1:2:0.5") == [1.0, 1.5, 2.0]
    assert parse_tolerances("5,10,30") == [5.0, 10.0, 30.0]
    for bad in ("5:1", "1:2:0", "", "a"):
        with pytest.raises(ValueError):
            parse_tolerances(bad)
    assert math.isnan(pck([], 1.0))
