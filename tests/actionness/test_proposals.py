"""Per-second scoring, TAG grouping and NMS."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from instructvid.actionness.model import ActionnessModel
from instructvid.actionness.proposals import (
    TAGConfig,
    group_score,
    nms,
    score_video,
    tag_groups,
    video_proposals,
)


def _planted(n: int = 120, seed: int = 0) -> np.ndarray:
    s = 0.1 + 0.05 * np.random.default_rng(seed).random(n)
    s[20:35] = 0.9
    s[60:80] = 0.8
    s[66] = 0.2  # a one-second dip inside the second segment
    return s


def test_tag_groups_on_planted_curve() -> None:
    s = _planted()
    # No tolerance: the dip splits the second segment.
    assert tag_groups(s, thresholds=(0.5,), tolerances=(0.0,)).tolist() == [
        [20, 35],
        [60, 66],
        [67, 80],
    ]
    # 20 % tolerance bridges the 1-second dip (1/7 of [60, 67)) but not the 25-second gap;
    # groups also start at every run (forward) and end at every run (backward), as in SSN.
    groups = tag_groups(s, thresholds=(0.5,), tolerances=(0.2,)).tolist()
    assert groups == [[20, 35], [60, 66], [60, 80], [67, 80]]
    # 5 % does not bridge it, neither forward (1/7 of [60, 67)) nor backward (1/14 of [66, 80)).
    assert [60, 80] not in tag_groups(s, thresholds=(0.5,), tolerances=(0.05,)).tolist()
    assert [60, 80] in tag_groups(s, thresholds=(0.5,), tolerances=(0.1,)).tolist()
    # Full tolerance groups everything from the first run to the last, in both directions.
    groups = tag_groups(s, thresholds=(0.5,), tolerances=(1.0,)).tolist()
    assert [20, 80] in groups


def test_video_proposals_return_the_planted_segments_first() -> None:
    props = video_proposals(_planted(), duration=119.5)
    top = props.segments[:2]
    assert sorted(map(tuple, np.round(top).tolist())) == [(20, 35), (60, 80)]
    assert props.segments.max() <= 119.5
    assert len(props) <= 100
    assert (np.diff(props.scores) <= 0).all()
    # 0.2 s positions scale the times.
    p2 = video_proposals(np.repeat(_planted(), 5), step=0.2)
    assert sorted(map(tuple, np.round(p2.segments[:2]).tolist())) == [(20, 35), (60, 80)]


def test_group_scores() -> None:
    s = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    g = np.array([[1, 3], [4, 6]])
    assert group_score(s, g, mode="sum").tolist() == [2.0, 1.0]
    assert group_score(s, g, mode="mean").tolist() == [1.0, 0.5]
    # flanks of 1 position: [0] and [3] around [1, 3); [3] alone before [4, 6).
    assert group_score(s, g, mode="contrast").tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="score must be"):
        TAGConfig(score="max")


def test_nms() -> None:
    seg = np.array([[0, 10], [1, 10], [0, 9.5], [20, 30], [0, 4]], dtype=float)
    sc = np.array([0.9, 0.95, 0.5, 0.3, 0.8])
    keep = nms(seg, sc, tiou=0.8)
    # [1,10] first; [0,10] (tIoU 0.9) and [0,9.5] (0.85) suppressed; [0,4] (0.33) kept.
    assert keep.tolist() == [1, 4, 3]
    assert nms(seg, sc, tiou=0.95).tolist() == [1, 0, 4, 2, 3]
    assert nms(seg, sc, tiou=0.8, max_keep=2).tolist() == [1, 4]


def test_score_video_is_linear_in_the_clip_mean() -> None:
    m = ActionnessModel(3)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 1.0]]))
        m.bias.fill_(0.5)
    x = np.random.default_rng(0).standard_normal((9, 3)).astype(np.float32)
    per_second = x @ np.array([1.0, 2.0, 0.0]) + 0.5
    np.testing.assert_allclose(score_video(m, x), per_second, atol=1e-5)
    s3 = score_video(m, x, clip_seconds=3)
    np.testing.assert_allclose(
        s3[1:-1], np.convolve(per_second, np.ones(3) / 3, "valid"), atol=1e-5
    )
    np.testing.assert_allclose(s3[0], per_second[:2].mean(), atol=1e-5)  # cut at the start
    with pytest.raises(ValueError, match=r"\(T, 3\)"):
        score_video(m, np.zeros((4, 2)))
