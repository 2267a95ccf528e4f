"""Triangulation of planted points and the eq.-5.3 evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from instructvid.scene.keypoints import evaluate_transfer, triangulate_dlt
from instructvid.scene.similarity import DegenerateError, Similarity
from instructvid.synth.scene import look_at


def _cameras():
    eyes = [(-1.0, -2.0, 1.0), (0.5, -2.2, 1.2), (1.5, -1.5, 0.8)]
    return [look_at(np.array(e), np.zeros(3)) for e in eyes]


def test_triangulation_of_a_planted_point_from_known_cameras():
    X = np.array([0.1, -0.2, 0.3])
    cams = _cameras()
    Rt = np.stack([np.hstack([R, t[:, None]]) for R, t in cams])
    obs = np.stack([(P[:, :3] @ X + P[:, 3])[:2] / (P[:, :3] @ X + P[:, 3])[2] for P in Rt])
    np.testing.assert_allclose(triangulate_dlt(Rt, obs), X, atol=1e-9)
    # with full projection matrices and pixel observations
    K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    P = np.stack([K @ p for p in Rt])
    px = np.stack([(p @ np.append(X, 1))[:2] / (p @ np.append(X, 1))[2] for p in P])
    np.testing.assert_allclose(triangulate_dlt(P, px), X, atol=1e-8)
    # two views suffice; small pixel noise gives a small error
    noisy = px[:2] + np.random.default_rng(0).normal(0, 0.3, (2, 2))
    assert np.linalg.norm(triangulate_dlt(P[:2], noisy) - X) < 0.01
    with pytest.raises(ValueError):
        triangulate_dlt(P[:1], px[:1])
    with pytest.raises(ValueError):
        triangulate_dlt(P, px[:2])


def test_evaluate_transfer_against_eq_5_3():
    rng = np.random.default_rng(1)
    names = [f"k{i}" for i in range(6)]
    K_s = {n: rng.uniform(-0.5, 0.5, 3) for n in names}
    truth = Similarity(2.0, Rotation.random(random_state=2).as_matrix(), np.array([1.0, 2, 3]))
    K_t = {n: truth(K_s[n]) for n in names}
    err, common = evaluate_transfer(K_s, K_t, truth, metres_per_unit=0.5)
    assert common == sorted(names)
    np.testing.assert_allclose(err, 0, atol=1e-9)
    # a transform 1 unit off (target units) = 0.5 m = 50 cm with 0.5 m per unit
    shifted = Similarity(truth.scale, truth.R, truth.t + np.array([1.0, 0, 0]))
    err, _ = evaluate_transfer(K_s, K_t, shifted, metres_per_unit=0.5)
    np.testing.assert_allclose(err, 50.0, atol=1e-9)
    err, _ = evaluate_transfer(K_s, K_t, None, metres_per_unit=0.5)
    assert np.isinf(err).all()
    with pytest.raises(DegenerateError):
        evaluate_transfer(K_s, {n: K_t[n] for n in names[:2]}, truth, 1.0)
