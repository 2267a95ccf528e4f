"""Sequence sampling: trimming bounds, clip lengths, order, category resampling, overlap refusal."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.actionness.sampling import (
    SequenceSampler,
    TrainEvalOverlapError,
    category_epoch,
    check_no_overlap,
    trim_bounds,
)


def test_trim_bounds() -> None:
    lo, hi = trim_bounds(np.array([10, 100, 7]), 0.3)
    assert lo.tolist() == [3, 30, 3] and hi.tolist() == [7, 70, 4]
    lo, hi = trim_bounds(np.array([10]), 0.0)
    assert (lo[0], hi[0]) == (0, 10)
    with pytest.raises(ValueError):
        trim_bounds(np.array([10]), 0.5)


@pytest.mark.parametrize("trim", [0.0, 0.3])
@pytest.mark.parametrize("range_s", [10, 60, 200])
def test_sampling_stays_inside_trimmed_region_with_clips_of_d_over_10(trim, range_s) -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(30, 900, size=300)
    sampler = SequenceSampler(lengths, range_s, n_clips=5, trim=trim)
    vids = np.flatnonzero(sampler.eligible)
    vids = np.repeat(vids, 20)
    starts, clip = sampler.sample(vids, rng)
    t = lengths[vids]
    ends = starts + clip[:, None]
    assert (starts >= np.ceil(trim * t - 1e-9)[:, None]).all()
    assert (starts >= trim * t[:, None] - 1e-9).all()
    assert (ends <= (1 - trim) * t[:, None] + 1e-9).all()
    assert (np.diff(starts, axis=1) > 0).all()  # distinct, sorted by time
    assert (starts[:, -1] + clip - starts[:, 0] <= range_s).all()  # inside one window of d
    long_enough = sampler.region[vids] >= range_s
    assert long_enough.any()
    assert (clip[long_enough] == round(range_s / 10)).all()
    assert sampler.nominal_clip_len == max(1, round(range_s / 10))


def test_short_videos_are_not_eligible_and_are_refused() -> None:
    sampler = SequenceSampler(np.array([10, 400]), 120, n_clips=5, trim=0.3)
    assert sampler.eligible.tolist() == [False, True]
    with pytest.raises(ValueError, match="too short"):
        sampler.sample(np.array([0]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="M must be >= 2"):
        SequenceSampler(np.array([100]), 50, n_clips=1)


def test_sampling_is_seeded() -> None:
    sampler = SequenceSampler(np.array([300, 500, 800]), 100)
    a = sampler.sample(np.array([0, 1, 2, 2]), np.random.default_rng(5))
    b = sampler.sample(np.array([0, 1, 2, 2]), np.random.default_rng(5))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_category_epoch_equalises_and_drops_small_categories() -> None:
    cats = np.array(["a"] * 10 + ["b"] * 4 + ["c"] * 2)
    idx = category_epoch(cats, min_videos=3, rng=np.random.default_rng(0))
    picked = cats[idx]
    assert sorted(picked.tolist()) == ["a"] * 4 + ["b"] * 4
    assert len(set(idx.tolist())) == idx.size  # without replacement
    with pytest.raises(ValueError, match="no category has at least 20"):
        category_epoch(cats, min_videos=20, rng=np.random.default_rng(0))


def test_overlap_with_evaluation_videos_is_refused() -> None:
    check_no_overlap(["a", "b"], ["c"])
    with pytest.raises(
        TrainEvalOverlapError, match=r"2 training video\(s\) are also in COIN test: b, c"
    ):
        check_no_overlap(["a", "b", "c"], ["c", "b", "z"], source="COIN test")
