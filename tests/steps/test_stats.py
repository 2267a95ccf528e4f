"""Dataset statistics (Table 3.2 definitions) on hand-made videos."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instructvid.io.crosstask import CrossTaskData, Segment, segments_to_matrix
from instructvid.steps.stats import (
    aggregate_task,
    dataset_statistics,
    order_consistency,
    video_statistics,
)


def test_order_consistency_thesis_example() -> None:
    # The thesis: the order 2 -> 1 -> 3 gives 2/3.
    segs = [Segment(2, 0, 1), Segment(1, 2, 3), Segment(3, 4, 5)]
    assert order_consistency(segs) == pytest.approx(2 / 3)


def test_order_consistency_uses_first_start_and_needs_two_steps() -> None:
    assert order_consistency([Segment(1, 0, 1)]) is None
    assert order_consistency([]) is None
    # Step 1 also appears late; its first start (0) counts: 1, 3, 2 -> pairs (1,3)+ (1,2)+ (3,2)-
    segs = [Segment(1, 0, 1), Segment(3, 2, 3), Segment(2, 4, 5), Segment(1, 9, 10)]
    assert order_consistency(segs, "pairwise") == pytest.approx(2 / 3)
    assert order_consistency(segs) == pytest.approx(2 / 3)  # LIS 1, 3 (or 1, 2) of 3


def test_the_two_readings_differ_on_longer_orders() -> None:
    segs = [Segment(s, i, i + 0.5) for i, s in enumerate((2, 3, 4, 1))]
    assert order_consistency(segs) == pytest.approx(3 / 4)  # 2, 3, 4 kept by an ordered parse
    assert order_consistency(segs, "pairwise") == pytest.approx(3 / 6)
    with pytest.raises(ValueError, match="order must be one of"):
        order_consistency(segs, "kendall")


@settings(max_examples=80, deadline=None)
@given(st.permutations(list(range(1, 7))), st.integers(2, 6))
def test_lis_is_the_longest_in_order_subsequence(perm: list[int], n: int) -> None:
    order = perm[:n]
    segs = [Segment(s, i, i + 0.5) for i, s in enumerate(order)]
    best = max(
        len(sub)
        for r in range(1, n + 1)
        for sub in itertools.combinations(order, r)
        if list(sub) == sorted(sub)
    )
    assert order_consistency(segs) == pytest.approx(best / n)


def test_video_statistics_hand_computed() -> None:
    # T=10, K=3; step 1 on seconds 1-2, step 3 on 5-6, step 2 missing.
    segs = [Segment(1, 1.0, 3.0), Segment(3, 5.0, 7.0)]
    gt = segments_to_matrix(segs, 10, 3)
    cons = np.zeros((10, 3), dtype=np.uint8)
    cons[0:2, 0] = 1  # overlaps step 1 on second 1
    cons[8:10, 2] = 1  # misses step 3 entirely
    v = video_statistics("t", "v", gt, segs, cons)
    assert v.steps_present == 2
    assert v.background_frames == 6
    assert v.order_consistency == 1.0
    assert v.best_parse_hits == 2
    assert v.constraint_intersection == 1
    assert v.constraint_union == 4 + 4 - 1
    assert v.steps_outside_constraints == 1


def _brute_best_parse(gt: np.ndarray) -> int:
    t, k = gt.shape
    return max(
        sum(int(gt[pos, j]) for j, pos in enumerate(c)) for c in itertools.combinations(range(t), k)
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_best_parse_is_the_best_ordered_choice(data: st.DataObject) -> None:
    k = data.draw(st.integers(1, 3))
    t = data.draw(st.integers(k, 7))
    cells = data.draw(st.lists(st.booleans(), min_size=t * k, max_size=t * k))
    gt = np.array(cells, dtype=np.uint8).reshape(t, k)
    v = video_statistics("t", "v", gt, [])
    assert v.best_parse_hits == _brute_best_parse(gt)


def test_aggregate_task_means() -> None:
    a = video_statistics(
        "t", "a", segments_to_matrix([Segment(1, 0, 5)], 10, 2), [Segment(1, 0, 5)]
    )
    segs = [Segment(2, 0, 2), Segment(1, 4, 6)]
    b = video_statistics("t", "b", segments_to_matrix(segs, 20, 2), segs)
    row = aggregate_task("t", "Make Pancakes", [a, b])
    assert row.n_videos == 2
    assert row.hours == pytest.approx(30 / 3600)
    assert row.mean_duration_s == 15
    assert row.missing_steps == pytest.approx((0.5 + 0.0) / 2)
    assert row.background == pytest.approx((5 / 10 + 16 / 20) / 2)
    # only video b has two steps, and they are swapped: an ordered parse keeps one of two
    assert row.order_consistency == 0.5
    assert row.best_parse_recall == pytest.approx((1 + 1) / 3)
    assert row.constraint_iou is None
    assert row.paper["n_videos"] == 182  # matched to the paper's "Make Pancakes"


def test_dataset_statistics_on_a_small_folder(tmp_path: Path) -> None:
    from tests.worlds import mini_dataset

    data = CrossTaskData.open(mini_dataset(tmp_path))
    stats = dataset_statistics(data)
    assert [r.task_id for r in stats.tasks] == ["1"]
    row = stats.tasks[0]
    assert row.n_videos == 1  # video b has no annotation file; related tasks are not counted
    assert row.background == pytest.approx(14 / 20)
    assert row.constraint_iou == pytest.approx(3 / (3 + 3 + 8 - 3))
    assert row.outside_constraints == pytest.approx(1 / 2)
    assert stats.total.n_videos == 1
    assert stats.order_definition == "lis"
    totals = stats.totals
    assert totals is not None
    assert (totals.primary_videos, totals.related_videos, totals.annotated_videos) == (2, 1, 1)
    assert totals.primary_hours == pytest.approx(40 / 3600)
    assert (totals.shared_videos, totals.shared_fraction) == (0, 0.0)
    assert totals.paper["primary_videos"] == 2763
    assert stats.to_json()["totals"]["related_hours"] == pytest.approx(20 / 3600)


def test_totals_count_shared_and_unreadable_videos(tmp_path: Path) -> None:
    from instructvid.io.crosstask import VideoEntry, write_video_list
    from instructvid.steps.stats import dataset_totals
    from tests.worlds import mini_dataset

    root = mini_dataset(tmp_path)
    entries = [VideoEntry("1", "a"), VideoEntry("1", "b"), VideoEntry("2", "c")]
    entries += [VideoEntry("2", "a"), VideoEntry("2", "d")]  # a is shared; d has no features
    write_video_list(root / "crosstask_release" / "videos.csv", entries)
    totals = dataset_totals(CrossTaskData.open(root))
    assert (totals.distinct_videos, totals.shared_videos) == (4, 1)
    assert totals.shared_fraction == pytest.approx(1 / 4)
    assert totals.shared_primary_related == 1
    assert (totals.related_videos, totals.missing_features) == (3, 1)
    assert totals.related_hours == pytest.approx(40 / 3600)  # a and c; d unreadable
