"""Mutual-NN matching, dense mapping with pre-alignment, flow-consistency filter, retrieval."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.scene.matching import (
    DenseMapping,
    dense_mapping,
    flow_consistent,
    flow_matches,
    match_frames,
    mutual_nearest_neighbours,
)
from instructvid.scene.retrieval import Vlad, top_pairs, vlad


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_mutual_nearest_neighbours_recovers_planted_permutation():
    rng = np.random.default_rng(0)
    a = _unit(rng.normal(size=(300, 64)))
    perm = rng.permutation(300)
    b = _unit(a[perm] + 0.05 * rng.normal(size=(300, 64)))
    m = mutual_nearest_neighbours(a, b, block=70)
    assert len(m) == 300
    np.testing.assert_array_equal(perm[m[:, 1]], m[:, 0])
    # an extra descriptor of B close to a[0] breaks mutuality only there
    b2 = np.vstack([b, _unit(a[:1] + 0.001)])
    m2 = mutual_nearest_neighbours(a, b2)
    assert len(m2) == 300 and m2[m2[:, 0] == 0, 1] == [300]
    assert mutual_nearest_neighbours(a, b, ratio=0.5).shape[0] <= 300
    assert mutual_nearest_neighbours(a[:0], b).shape == (0, 2)
    with pytest.raises(ValueError):
        mutual_nearest_neighbours(a, b[:, :10])


def _texture(seed=0, size=(240, 320)):
    import cv2

    rng = np.random.default_rng(seed)
    img = np.zeros(size, np.float32)
    for cells, w in ((6, 0.5), (20, 0.3), (60, 0.2)):
        img += w * cv2.resize(
            rng.random((cells, cells)).astype(np.float32), size[::-1], interpolation=cv2.INTER_CUBIC
        )
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def test_dense_mapping_with_homography_prealignment():
    import cv2

    a = _texture(1)
    h, w = a.shape
    H = np.array([[0.9, 0.12, 20.0], [-0.08, 0.95, 8.0], [2e-4, 1e-4, 1.0]])  # B <- A (OpenCV px)
    b = cv2.warpPerspective(a, H, (w, h))
    pts = np.random.default_rng(2).uniform([40, 40], [w - 80, h - 80], size=(200, 2))
    pa = pts + 0.5  # COLMAP convention
    q = np.c_[pts, np.ones(len(pts))] @ H.T
    pb = q[:, :2] / q[:, 2:] + 0.5
    matches = np.stack([np.arange(200), np.arange(200)], 1)
    mapping = dense_mapping(a, b, kp_a=pa, kp_b=pb, matches=matches)
    assert mapping.homography is not None
    err = np.linalg.norm(mapping(pa) - pb, axis=1)
    assert np.median(err) < 0.5
    # the flow filter keeps the right matches and drops shuffled ones
    wrong = np.stack([np.arange(50), (np.arange(50) + 7) % 50], 1)
    keep = flow_consistent(pa, pb, np.vstack([matches, wrong]), mapping, threshold=3.0)
    assert keep[:200].mean() > 0.95 and keep[200:].mean() < 0.05
    # flow-only matching lands on the right keypoints of B
    fm = flow_matches(pa, pb, mapping, threshold=3.0)
    assert (fm[:, 0] == fm[:, 1]).mean() > 0.95 and len(fm) > 180
    # the identity mapping of an image onto itself
    ident = dense_mapping(a, a)
    assert np.abs(ident(pa) - pa).max() < 0.5
    assert np.isnan(DenseMapping(ident.field, None)(np.array([[-50.0, -50.0]]))).all()


def test_match_frames_methods():
    a = _texture(3)
    rng = np.random.default_rng(4)
    pa = rng.uniform([10, 10], [300, 220], size=(80, 2)) + 0.5
    desc = _unit(rng.normal(size=(80, 32)))
    # B = A (same frame): every method matches each keypoint to itself
    for method in ("local", "flow", "local+flow"):
        m = match_frames(pa, desc, pa, desc, gray_a=a, gray_b=a, method=method)
        assert len(m) >= 78 and (m[:, 0] == m[:, 1]).all(), method
    with pytest.raises(ValueError):
        match_frames(pa, desc, pa, desc, method="flow")
    with pytest.raises(ValueError):
        match_frames(pa, desc, pa, desc, method="glu-net")


def test_vlad_and_top_pairs():
    rng = np.random.default_rng(5)
    frames = [_unit(rng.normal(size=(200, 16)) + rng.normal(size=16) * 2) for _ in range(6)]
    model = Vlad(n_words=8, seed=0).fit(frames)
    d = np.stack([model.describe(f) for f in frames])
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-5)
    # B = frames 3, 1, 5 re-observed with noise: each is retrieved
    b = np.stack(
        [
            model.describe(_unit(frames[i] + 0.05 * rng.normal(size=frames[i].shape)))
            for i in (3, 1, 5)
        ]
    )
    pairs = top_pairs(b, d, 3)
    assert sorted((i, j) for i, j, _ in pairs) == [(0, 3), (1, 1), (2, 5)]
    assert pairs[0][2] >= pairs[-1][2]
    assert top_pairs(d[:0], d, 3) == []
    assert vlad(np.zeros((0, 16), np.float32), model.codebook_).shape == (8 * 16,)
