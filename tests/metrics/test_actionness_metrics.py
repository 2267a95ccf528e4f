"""Frame AP on 0.2 s segments and AR@AN (checked against a transcription of ActivityNet's code)."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.metrics.actionness import (
    average_recall_vs_an,
    frame_ap,
    n_segments,
    per_second_to_segments,
    segment_labels,
    segment_tiou,
    trim_mask,
)

# ---------------------------------------------------------------------------------------------
# Independent reference: a line-by-line numpy transcription of ``average_recall_vs_avg_nr_proposals``
# and ``wrapper_segment_iou`` / ``segment_iou`` of ActivityNet's Evaluation/eval_proposal.py
# (pandas group-by replaced by dicts; ``np.trapz`` by ``np.trapezoid``, the same formula).


def _ref_segment_iou(target_segment, candidate_segments):
    tt1 = np.maximum(target_segment[0], candidate_segments[:, 0])
    tt2 = np.minimum(target_segment[1], candidate_segments[:, 1])
    segments_intersection = (tt2 - tt1).clip(0)
    segments_union = (
        (candidate_segments[:, 1] - candidate_segments[:, 0])
        + (target_segment[1] - target_segment[0])
        - segments_intersection
    )
    return segments_intersection.astype(float) / segments_union


def _ref_wrapper_segment_iou(target_segments, candidate_segments):
    n, m = candidate_segments.shape[0], target_segments.shape[0]
    tiou = np.empty((n, m))
    for i in range(m):
        tiou[:, i] = _ref_segment_iou(target_segments[i, :], candidate_segments)
    return tiou


_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def _ref_average_recall(gt_rows, prop_rows, max_avg_nr_proposals=None, tiou_thresholds=_THRESHOLDS):
    """gt_rows: list of (video, start, end); prop_rows: list of (video, start, end, score)."""
    video_lst = list(dict.fromkeys(v for v, _, _ in gt_rows))
    n_videos = len(video_lst)
    n_props_total = len(prop_rows)
    if not max_avg_nr_proposals:
        max_avg_nr_proposals = float(n_props_total) / n_videos
    ratio = max_avg_nr_proposals * float(n_videos) / n_props_total
    score_lst = []
    total_nr_proposals = 0
    for videoid in video_lst:
        this_video_ground_truth = np.array([[s, e] for v, s, e in gt_rows if v == videoid])
        rows = [(s, e, sc) for v, s, e, sc in prop_rows if v == videoid]
        if not rows:
            score_lst.append(np.zeros((this_video_ground_truth.shape[0], 1)))
            continue
        this_video_proposals = np.array([[s, e] for s, e, _ in rows])
        scores = np.array([sc for _, _, sc in rows])
        sort_idx = scores.argsort(kind="stable")[::-1]
        this_video_proposals = this_video_proposals[sort_idx, :]
        nr_proposals = np.minimum(
            int(this_video_proposals.shape[0] * ratio), this_video_proposals.shape[0]
        )
        total_nr_proposals += nr_proposals
        this_video_proposals = this_video_proposals[:nr_proposals, :]
        tiou = _ref_wrapper_segment_iou(this_video_proposals, this_video_ground_truth)
        score_lst.append(tiou)
    pcn_lst = (
        np.arange(1, 101) / 100.0 * (max_avg_nr_proposals * float(n_videos) / total_nr_proposals)
    )
    matches = np.empty((n_videos, pcn_lst.shape[0]))
    positives = np.empty(n_videos)
    recall = np.empty((tiou_thresholds.shape[0], pcn_lst.shape[0]))
    for ridx, tiou in enumerate(tiou_thresholds):
        for i, score in enumerate(score_lst):
            positives[i] = score.shape[0]
            true_positives_tiou = score >= tiou
            pcn_proposals = np.minimum((score.shape[1] * pcn_lst).astype(int), score.shape[1])
            for j, nr_proposals in enumerate(pcn_proposals):
                matches[i, j] = np.count_nonzero(
                    (true_positives_tiou[:, :nr_proposals]).sum(axis=1)
                )
        recall[ridx, :] = matches.sum(axis=0) / positives.sum()
    avg_recall = recall.mean(axis=0)
    proposals_per_video = pcn_lst * (float(total_nr_proposals) / n_videos)
    auc = np.trapezoid(avg_recall, proposals_per_video) / proposals_per_video[-1]
    return recall, avg_recall, proposals_per_video, auc


def _random_problem(rng: np.random.Generator):
    gt, props, gt_rows, prop_rows = {}, {}, [], []
    for v in range(int(rng.integers(1, 7))):
        vid = f"v{v}"
        dur = float(rng.uniform(20, 200))
        n = int(rng.integers(1, 6))
        s = rng.uniform(0, dur * 0.8, n)
        e = np.minimum(dur, s + rng.uniform(1, dur / 3, n))
        gt[vid] = np.stack([s, e], 1)
        gt_rows += [(vid, a, b) for a, b in gt[vid]]
        if rng.random() < 0.2:
            continue  # a video without proposals
        m = int(rng.integers(1, 40))
        ps = rng.uniform(0, dur * 0.9, m)
        pe = np.minimum(dur, ps + rng.uniform(0.5, dur / 2, m))
        sc = rng.random(m)
        # plant near-copies of the ground truth so that high tIoU occurs
        k = min(n, m)
        ps[:k] = gt[vid][:k, 0] + rng.normal(0, 1, k)
        pe[:k] = np.maximum(ps[:k] + 0.1, gt[vid][:k, 1] + rng.normal(0, 1, k))
        props[vid] = (np.stack([ps, pe], 1), sc)
        prop_rows += [(vid, a, b, c) for a, b, c in zip(ps, pe, sc, strict=True)]
    # proposals of a video without ground truth still count towards the total
    extra = rng.uniform(0, 50, (3, 2))
    extra.sort(axis=1)
    props["other"] = (extra, rng.random(3))
    prop_rows += [("other", a, b, c) for (a, b), c in zip(extra, props["other"][1], strict=True)]
    return gt, props, gt_rows, prop_rows


@pytest.mark.parametrize("max_avg", [100, None, 5, 1])
def test_ar_an_equals_the_official_algorithm_on_random_inputs(max_avg) -> None:
    rng = np.random.default_rng(0 if max_avg is None else max_avg)
    compared = 0
    for _ in range(25):
        gt, props, gt_rows, prop_rows = _random_problem(rng)
        if not any(v in props for v in gt):
            continue
        with np.errstate(all="ignore"):
            ref_recall, ref_avg, ref_an, ref_auc = _ref_average_recall(gt_rows, prop_rows, max_avg)
        if not np.isfinite(ref_an).all():
            # The official code divides by zero when no proposal is kept; we raise instead.
            with pytest.raises(ValueError, match="no proposal is kept"):
                average_recall_vs_an(gt, props, max_avg_nr_proposals=max_avg)
            continue
        got = average_recall_vs_an(gt, props, max_avg_nr_proposals=max_avg)
        np.testing.assert_array_equal(got.recall, ref_recall)
        np.testing.assert_array_equal(got.avg_recall, ref_avg)
        np.testing.assert_array_equal(got.proposals_per_video, ref_an)
        assert got.auc == pytest.approx(ref_auc, rel=1e-12)
        compared += 1
    assert compared >= 15


def test_ar_an_hand_made_case() -> None:
    gt = {"a": np.array([[0.0, 10.0]])}
    # Best proposal first: tIoU 1 -> recalled at every threshold once one proposal is used.
    props = {"a": (np.array([[0.0, 10.0], [0.0, 6.8]]), np.array([0.9, 0.5]))}
    r = average_recall_vs_an(gt, props, max_avg_nr_proposals=2)
    # AN grid k/100 * 2; int(2 * k / 100) proposals used: none below k = 50.
    assert r.proposals_per_video[[0, 49, 99]] == pytest.approx([0.02, 1.0, 2.0])
    assert (r.avg_recall[:49] == 0).all() and (r.avg_recall[49:] == 1).all()
    # Area: a ramp from (0.98, 0) to (1, 1), then 1 up to AN = 2, divided by 2.
    assert r.auc == pytest.approx((0.5 * 0.02 + 1.0) / 2)
    assert r.ar_at(1) == 1.0
    # Worse proposal first: tIoU 0.68 passes 0.5, 0.55, 0.6, 0.65 -> 4/10 until both are used.
    props = {"a": (np.array([[0.0, 10.0], [0.0, 6.8]]), np.array([0.5, 0.9]))}
    r = average_recall_vs_an(gt, props, max_avg_nr_proposals=2)
    assert r.avg_recall[49:99] == pytest.approx(0.4) and r.avg_recall[99] == 1.0
    # A second video without proposals halves the recall (pooled over ground-truth segments).
    gt2 = {**gt, "b": np.array([[5.0, 9.0]])}
    r2 = average_recall_vs_an(gt2, props, max_avg_nr_proposals=1)
    # AN = 1 per video on average lets 'a' use both of its proposals: (1 + 0) / 2.
    assert r2.avg_recall[-1] == pytest.approx(0.5)
    assert r2.avg_recall[49] == pytest.approx(0.2)  # AN 0.5: one proposal of 'a', 0.4 / 2
    with pytest.raises(ValueError, match="no proposals"):
        average_recall_vs_an(gt, {})
    with pytest.raises(KeyError, match="AN=3"):
        r.ar_at(3)


def test_segment_tiou() -> None:
    t = segment_tiou(np.array([[0, 10], [5, 6]]), np.array([[5, 15], [20, 30]]))
    np.testing.assert_allclose(t, [[5 / 15, 0], [1 / 10, 0]])


def test_segments_and_labels() -> None:
    assert n_segments(1.0) == 5 and n_segments(26.795) == 134 and n_segments(0.1) == 1
    # Segment i covers [0.2 i, 0.2 (i + 1)); overlap is strict at both ends.
    np.testing.assert_array_equal(segment_labels(1.0, np.array([[0.3, 0.5]])), [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(segment_labels(1.0, np.array([[0.0, 0.2]])), [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(segment_labels(1.0, np.zeros((0, 2))), [0] * 5)
    np.testing.assert_array_equal(
        per_second_to_segments(np.array([1.0, 2.0]), 12), [1] * 5 + [2] * 7
    )
    # Trimming: centres in the first / last 30 % of a 2 s video (10 segments).
    np.testing.assert_array_equal(trim_mask(2.0, 0.3), [1, 1, 1, 0, 0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="positive"):
        n_segments(0.0)


def test_frame_ap_hand_example() -> None:
    labels = {"a": segment_labels(1.0, np.array([[0.3, 0.5]]))}  # [0, 1, 1, 0, 0]
    scores = {"a": np.array([0.1, 0.9, 0.4, 0.5, 0.2])}
    # Ranking: 0.9 (+), 0.5 (-), 0.4 (+): AP = (1 + 2/3) / 2.
    r = frame_ap(scores, labels)
    assert r.pooled == pytest.approx(5 / 6) and r.per_video_mean == pytest.approx(5 / 6)
    # Pooling differs from averaging per video; videos without positives are left out of the mean.
    labels["b"] = np.array([True, False])
    labels["c"] = np.array([False, False])
    scores["b"] = np.array([0.3, 0.95])
    scores["c"] = np.array([0.0, 0.0])
    r = frame_ap(scores, labels)
    assert r.per_video_mean == pytest.approx((5 / 6 + 0.5) / 2)
    # pooled ranking: .95-, .9+, .5-, .4+, .3+, ...: (1/2 + 2/4 + 3/5) / 3
    assert r.pooled == pytest.approx((0.5 + 0.5 + 0.6) / 3)
    assert np.isnan(r.per_video["c"]) and r.n_videos == 3 and r.n_segments == 9
    with pytest.raises(KeyError, match="no scores"):
        frame_ap({}, labels)
    with pytest.raises(ValueError, match="segment scores"):
        frame_ap({"a": np.zeros(3)}, {"a": np.zeros(5, bool)})
