"""Comparing an estimated similarity (a graph edge) with a reference one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from instructvid.scene.evaluate import similarity_errors
from instructvid.scene.similarity import Similarity


def test_similarity_errors_in_centimetres():
    ref = Similarity(0.5, Rotation.from_euler("z", 30, degrees=True).as_matrix(), [1.0, 2.0, 3.0])
    est = Similarity(0.51, Rotation.from_euler("z", 32, degrees=True).as_matrix(), [1.0, 2.0, 3.04])
    pts = np.random.default_rng(0).normal(size=(50, 3))
    e = similarity_errors(est, ref, pts, metres_per_unit=0.5)
    assert e["scale_ratio"] == pytest.approx(1.02)
    assert e["rotation_error_deg"] == pytest.approx(2.0)
    assert e["translation_error_cm"] == pytest.approx(2.0)  # 0.04 units x 0.5 m
    d = np.linalg.norm(est(pts) - ref(pts), axis=1) * 50
    assert e["points"] == 50 and e["moved_max_cm"] == pytest.approx(d.max())
    assert e["moved_median_cm"] == pytest.approx(np.median(d))
    same = similarity_errors(ref, ref, pts)
    assert same["scale_ratio"] == 1 and same["moved_max_cm"] == 0
    assert "points" not in similarity_errors(est, ref)
