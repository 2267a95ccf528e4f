"""Actionness metrics (thesis §4.4.1): frame-wise AP on 0.2 s segments and AR@AN of proposals.

Units
-----
* **seconds** for durations, annotated segments and proposals;
* **0.2 s segments** for frame AP: segment ``i`` covers ``[0.2 i, 0.2 (i + 1))`` s and a video of
  ``D`` seconds has ``ceil(D / 0.2)`` of them (the last one may run past the end);
* **per-second scores** (one value per second, as per-second features give) are mapped to the
  segments by the second a segment starts in: segment ``i`` takes the score of second ``i // 5``
  (the last second is repeated when the scores are shorter than the video).

Frame AP
--------
A segment is positive (action) iff it overlaps an annotated step, ``0.2 i < end`` and
``0.2 (i + 1) > start``. AP is :func:`instructvid.metrics.ap.average_precision`
(= scikit-learn's ``average_precision_score``; tied scores form one threshold). Two poolings:
over all segments of all videos of the subset (the headline, as the thesis's Table 4.1), and per
video then averaged over the videos that hold at least one positive segment.

AR@AN
-----
:func:`average_recall_vs_an` reproduces ``average_recall_vs_avg_nr_proposals`` of ActivityNet's
``Evaluation/eval_proposal.py`` (the protocol of BSN/BMN, used by the thesis): per video the
proposals are sorted by decreasing score and truncated to ``int(n · ratio)`` with
``ratio = AN_max · n_videos / n_proposals_total``; recall is evaluated at the 100 fractions
``k / 100`` of each video's kept proposals (scaled so that the x axis is the average number of
proposals per video, ``AN = k / 100 · AN_max``), a ground-truth segment counts as recalled at
tIoU ``θ`` when one of the first proposals reaches ``θ``, recall is pooled over all ground-truth
segments, and averaged over ``θ ∈ {0.5, 0.55, …, 0.95}``. The AUC is the trapezoidal area under
AR vs AN divided by the largest AN: a fraction in ``[0, 1]`` (the official script prints it
×100). See the docstring of :func:`average_recall_vs_an` for the details kept on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from instructvid.metrics.ap import average_precision

__all__ = [
    "ARAN",
    "SEGMENTS_PER_SECOND",
    "SEGMENT_SECONDS",
    "TIOU_THRESHOLDS",
    "FrameAP",
    "average_recall_vs_an",
    "frame_ap",
    "n_segments",
    "per_second_to_segments",
    "segment_labels",
    "segment_tiou",
    "trim_mask",
]

#: Segments per second and their length (0.2 s).
SEGMENTS_PER_SECOND = 5
SEGMENT_SECONDS = 1.0 / SEGMENTS_PER_SECOND
#: tIoU thresholds 0.5:0.05:0.95 (ActivityNet).
TIOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def n_segments(duration: float) -> int:
    """Number of 0.2 s segments of a video of ``duration`` seconds: ``ceil(duration / 0.2)``."""
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
    return max(1, math.ceil(round(duration * SEGMENTS_PER_SECOND, 6)))


def segment_labels(duration: float, segments: np.ndarray) -> np.ndarray:
    """Action labels of the 0.2 s segments of a video.

    Args:
        duration: video length in seconds.
        segments: (n, 2) annotated ``[start, end]`` in seconds.

    Returns:
        bool (ceil(duration / 0.2),): True where the segment overlaps an annotated step.
    """
    n = n_segments(duration)
    seg = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    lo = np.arange(n) * SEGMENT_SECONDS
    hi = (np.arange(n) + 1) * SEGMENT_SECONDS
    labels = np.zeros(n, dtype=bool)
    for start, end in seg:
        labels |= (lo < end) & (hi > start)
    return labels


def per_second_to_segments(scores: np.ndarray, n_seg: int) -> np.ndarray:
    """Map per-second scores (T,) to ``n_seg`` 0.2 s segments: segment i gets second ``i // 5``.

    Seconds past the last score repeat the last score (videos whose features are a little
    shorter than the annotated duration).
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        raise ValueError("per-second scores are empty")
    idx = np.minimum(np.arange(n_seg) // SEGMENTS_PER_SECOND, s.size - 1)
    return s[idx]


def trim_mask(duration: float, trim: float) -> np.ndarray:
    """True for the 0.2 s segments whose centre lies in the first or last ``trim`` of the video.

    Used by the "chance trim@0.3" baseline, which sets these segments to background (score 0).
    """
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim}")
    n = n_segments(duration)
    centre = (np.arange(n) + 0.5) * SEGMENT_SECONDS
    return (centre < trim * duration) | (centre > (1 - trim) * duration)


@dataclass(frozen=True)
class FrameAP:
    """Frame-wise AP of one method on one subset (fractions in [0, 1])."""

    pooled: float
    per_video_mean: float
    per_video: dict[str, float]
    n_videos: int
    n_segments: int
    positive_fraction: float


def frame_ap(scores: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray]) -> FrameAP:
    """Frame-wise AP pooled over all segments and per video.

    Args:
        scores: ``{video: (n_i,)}`` segment scores (higher = action).
        labels: ``{video: (n_i,)}`` bool segment labels; every video of ``labels`` must be scored.

    Returns:
        :class:`FrameAP`. Per-video AP is NaN for videos without a positive segment; those are
        left out of ``per_video_mean``.
    """
    missing = [v for v in labels if v not in scores]
    if missing:
        raise KeyError(f"{len(missing)} video(s) have no scores, e.g. {missing[:3]}")
    all_s, all_l, per_video = [], [], {}
    for vid, lab in labels.items():
        s = np.asarray(scores[vid], dtype=np.float64).reshape(-1)
        lab = np.asarray(lab, dtype=bool).reshape(-1)
        if s.shape != lab.shape:
            raise ValueError(
                f"video {vid!r}: {s.shape[0]} segment scores for {lab.shape[0]} segment labels"
            )
        all_s.append(s)
        all_l.append(lab)
        per_video[vid] = average_precision(s, lab) if lab.any() else float("nan")
    if not all_s:
        raise ValueError("no video to evaluate")
    s_cat = np.concatenate(all_s)
    l_cat = np.concatenate(all_l)
    finite = [v for v in per_video.values() if not math.isnan(v)]
    return FrameAP(
        pooled=average_precision(s_cat, l_cat),
        per_video_mean=float(np.mean(finite)) if finite else float("nan"),
        per_video=per_video,
        n_videos=len(per_video),
        n_segments=int(s_cat.size),
        positive_fraction=float(l_cat.mean()),
    )


def segment_tiou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Temporal IoU of every segment of ``a`` (n, 2) with every segment of ``b`` (m, 2): (n, m).

    ``inter = max(0, min(end) - max(start))``, ``union = len_a + len_b - inter``; 0/0 gives NaN
    (two empty segments), which compares False with every threshold.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    inter = inter.clip(0)
    union = (a[:, None, 1] - a[:, None, 0]) + (b[None, :, 1] - b[None, :, 0]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / union


@dataclass(frozen=True)
class ARAN:
    """Average recall vs average number of proposals per video.

    Attributes:
        recall: (n_thresholds, 100) recall at each tIoU threshold and AN grid point.
        avg_recall: (100,) recall averaged over the thresholds.
        proposals_per_video: (100,) the AN grid, ``k / 100 · max_avg_nr_proposals`` (k = 1..100).
        auc: area under ``avg_recall`` vs AN divided by the largest AN (fraction in [0, 1]).
        n_videos: videos with ground truth.
    """

    recall: np.ndarray
    avg_recall: np.ndarray
    proposals_per_video: np.ndarray
    auc: float
    n_videos: int

    def ar_at(self, an: float) -> float:
        """AR at the grid point whose AN equals ``an`` (e.g. 1, 5, 10, 100 when AN_max = 100)."""
        idx = np.flatnonzero(np.isclose(self.proposals_per_video, an))
        if idx.size == 0:
            raise KeyError(f"AN={an} is not on the grid {self.proposals_per_video[[0, -1]]}")
        return float(self.avg_recall[idx[0]])


def average_recall_vs_an(
    ground_truth: Mapping[str, np.ndarray],
    proposals: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    max_avg_nr_proposals: float | None = 100,
    tiou_thresholds: Sequence[float] | np.ndarray = TIOU_THRESHOLDS,
) -> ARAN:
    """AR@AN exactly as ActivityNet's ``average_recall_vs_avg_nr_proposals``.

    Args:
        ground_truth: ``{video: (n, 2)}`` annotated ``[start, end]`` seconds. Videos with no
            segment are not evaluated (the official code lists videos from the ground-truth rows).
        proposals: ``{video: ((m, 2) segments in seconds, (m,) scores)}``. Every proposal counts
            towards the total used for ``ratio``, also those of videos without ground truth
            (as in the official code).
        max_avg_nr_proposals: AN_max; ``None`` = total proposals / evaluated videos (official
            default). BSN/BMN and we use 100.
        tiou_thresholds: tIoU thresholds (default 0.5:0.05:0.95).

    Details reproduced on purpose: proposals are ordered by ``argsort(score)[::-1]`` with a stable
    sort, so tied scores keep the *later* proposal first; ``int()`` truncation of
    ``n · ratio`` and of ``n_kept · fraction``; a video without proposals is a single all-zero
    column (no match); recall is pooled over ground-truth segments, not averaged over videos.

    Raises:
        ValueError: no video with ground truth, no proposal at all, or no proposal kept.
    """
    thresholds = np.asarray(tiou_thresholds, dtype=np.float64).reshape(-1)
    videos = [v for v, g in ground_truth.items() if np.asarray(g).reshape(-1, 2).shape[0] > 0]
    n_videos = len(videos)
    if n_videos == 0:
        raise ValueError("no video with ground-truth segments")
    total = sum(int(np.asarray(p[1]).reshape(-1).shape[0]) for p in proposals.values())
    if total == 0:
        raise ValueError("no proposals at all")
    if not max_avg_nr_proposals:
        max_avg_nr_proposals = float(total) / n_videos
    ratio = max_avg_nr_proposals * float(n_videos) / total

    first_hits: list[np.ndarray] = []  # per video: (n_thr, n_gt) first proposal index reaching θ
    widths: list[int] = []  # per video: number of columns of its tIoU matrix
    total_kept = 0
    for vid in videos:
        gt = np.asarray(ground_truth[vid], dtype=np.float64).reshape(-1, 2)
        entry = proposals.get(vid)
        n_prop = 0 if entry is None else int(np.asarray(entry[1]).reshape(-1).shape[0])
        if n_prop == 0:
            first_hits.append(np.full((thresholds.size, gt.shape[0]), np.iinfo(np.int64).max))
            widths.append(1)
            continue
        segs = np.asarray(entry[0], dtype=np.float64).reshape(-1, 2)
        scores = np.asarray(entry[1], dtype=np.float64).reshape(-1)
        order = np.argsort(scores, kind="stable")[::-1]
        kept = min(int(n_prop * ratio), n_prop)
        total_kept += kept
        tiou = segment_tiou(gt, segs[order[:kept]])  # (n_gt, kept)
        hit = tiou[None, :, :] >= thresholds[:, None, None]  # (n_thr, n_gt, kept)
        if kept == 0:
            first = np.full((thresholds.size, gt.shape[0]), np.iinfo(np.int64).max)
        else:
            first = np.where(hit.any(axis=2), hit.argmax(axis=2), np.iinfo(np.int64).max)
        first_hits.append(first)
        widths.append(kept)
    if total_kept == 0:
        raise ValueError("no proposal is kept (too few proposals for max_avg_nr_proposals)")

    pcn = np.arange(1, 101) / 100.0 * (max_avg_nr_proposals * float(n_videos) / total_kept)
    matches = np.zeros((thresholds.size, pcn.size), dtype=np.float64)
    positives = 0
    for first, width in zip(first_hits, widths, strict=True):
        positives += first.shape[1]
        n_used = np.minimum((width * pcn).astype(np.int64), width)  # (100,)
        # gt g matched with the first n proposals iff its first hit index < n.
        matches += (first[:, :, None] < n_used[None, None, :]).sum(axis=1)
    recall = matches / positives
    avg_recall = recall.mean(axis=0)
    proposals_per_video = pcn * (float(total_kept) / n_videos)
    auc = float(np.trapezoid(avg_recall, proposals_per_video) / proposals_per_video[-1])
    return ARAN(recall, avg_recall, proposals_per_video, auc, n_videos)
