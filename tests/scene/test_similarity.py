"""RANSAC + Umeyama (thesis §5.3.4): planted similarities, outliers, degenerate input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from instructvid.scene.similarity import (
    DegenerateError,
    Similarity,
    is_degenerate,
    ransac_umeyama,
    umeyama,
)


def _planted(seed: int = 0) -> Similarity:
    rng = np.random.default_rng(seed)
    rot = Rotation.random(random_state=seed).as_matrix()
    return Similarity(float(rng.uniform(0.2, 5.0)), rot, rng.normal(0, 3, 3))


def _assert_close(a: Similarity, b: Similarity, tol: float = 1e-9) -> None:
    assert abs(a.scale - b.scale) <= tol * max(1.0, b.scale)
    np.testing.assert_allclose(a.R, b.R, atol=tol)
    np.testing.assert_allclose(a.t, b.t, atol=tol * 10)


def test_umeyama_recovers_planted_similarity_exactly():
    S = _planted(1)
    src = np.random.default_rng(2).normal(size=(50, 3))
    _assert_close(umeyama(src, S(src)), S, 1e-10)


def test_umeyama_minimal_and_rigid():
    S = _planted(3)
    src = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    _assert_close(umeyama(src, S(src)), S, 1e-9)
    rigid = Similarity(1.0, S.R, S.t)
    fit = umeyama(src, rigid(src), with_scale=False)
    assert fit.scale == 1.0
    _assert_close(fit, rigid, 1e-9)


def test_ransac_with_30_percent_outliers_and_noise():
    rng = np.random.default_rng(4)
    S = _planted(5)
    src = rng.uniform(-1, 1, size=(400, 3))
    dst = S(src) + rng.normal(0, 0.002 * S.scale, size=src.shape)
    out = rng.choice(len(src), size=120, replace=False)  # 30 % outliers
    dst[out] = rng.uniform(dst.min(0), dst.max(0), size=(len(out), 3))
    fit = ransac_umeyama(src, dst, seed=0)
    assert abs(fit.similarity.scale / S.scale - 1) < 0.01
    assert fit.similarity.rotation_error_deg(S) < 0.5
    np.testing.assert_allclose(fit.similarity(src[:5]), S(src[:5]), atol=0.02 * S.scale)
    inl = np.ones(len(src), bool)
    inl[out] = False
    assert (fit.inliers & inl).sum() >= 0.97 * inl.sum()
    assert (fit.inliers & ~inl).sum() <= 5
    # seeded: the same answer twice
    again = ransac_umeyama(src, dst, seed=0)
    np.testing.assert_array_equal(again.inliers, fit.inliers)


def test_ransac_without_noise_is_exact():
    S = _planted(6)
    src = np.random.default_rng(7).normal(size=(60, 3))
    _assert_close(ransac_umeyama(src, S(src), seed=1).similarity, S, 1e-8)


def test_degenerate_samples_are_refused():
    line = np.outer(np.linspace(0, 1, 20), [1.0, 2.0, 3.0])
    assert is_degenerate(line)
    assert is_degenerate(np.zeros((5, 3)))
    assert is_degenerate(np.eye(3)[:2])
    assert not is_degenerate(np.eye(3))
    with pytest.raises(DegenerateError):
        umeyama(line, line + 1)
    with pytest.raises(DegenerateError):
        umeyama(np.eye(3)[:2], np.eye(3)[:2])
    with pytest.raises(DegenerateError, match="correspondences"):
        ransac_umeyama(np.eye(3), np.eye(3), min_inliers=6)
    with pytest.raises(DegenerateError, match="collinear"):
        ransac_umeyama(line, line * 2.0)
    # no consistent transform: pure noise
    rng = np.random.default_rng(8)
    with pytest.raises(DegenerateError, match="RANSAC"):
        ransac_umeyama(
            rng.normal(size=(40, 3)), rng.normal(size=(40, 3)), min_inliers=20, threshold=1e-3
        )
    with pytest.raises(ValueError):
        umeyama(np.zeros((4, 3)), np.zeros((4, 2)))


def test_composition_along_a_three_node_path_equals_direct():
    A, B = _planted(10), _planted(11)  # x_b = A(x_a), x_c = B(x_b)
    direct = B @ A
    x = np.random.default_rng(12).normal(size=(10, 3))
    np.testing.assert_allclose(direct(x), B(A(x)), atol=1e-9)
    # the same as fitting the direct transform from the points
    _assert_close(umeyama(x, B(A(x))), direct, 1e-9)
    np.testing.assert_allclose(direct.inverse()(direct(x)), x, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_inverse_and_compose_properties(s1, s2):
    A, B = _planted(s1), _planted(s2)
    x = np.random.default_rng(s1 + s2).normal(size=(4, 3))
    np.testing.assert_allclose((A.inverse() @ A)(x), x, atol=1e-8)
    np.testing.assert_allclose((A @ B).matrix(), A.matrix() @ B.matrix(), atol=1e-8)
    np.testing.assert_allclose(Similarity.from_json(A.to_json()).matrix(), A.matrix())
