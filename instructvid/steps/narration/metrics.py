"""Quality measures of narration constraints against the ground truth (thesis Table A.1), threshold
choice and the random baseline — pure functions on intervals and (T, K) ground-truth arrays.

The thesis reports precision and recall of its constraints (Table A.1: max-pooled word vectors
11.6 / 10.4 %, TF-IDF 13.3 / 11.4 %, learned aggregation 15.9 / 13.9 %), their IoU with the ground
truth (7.9 %) and the share of ground-truth steps entirely outside their interval (61 %), without
defining precision and recall. Ours, per video of a primary task with an annotation (T seconds,
K steps; a segment covers seconds ``floor(start) .. ceil(end) − 1``, as everywhere):

- **intervals**: the rows of the video's constraint CSV (one per step that got one);
- an interval of step k is a **hit** if it shares at least one second with the ground truth of
  step k;
- **present**: the (video, step) pairs with ground truth; a present step is **found** if one of
  its intervals is a hit;
- **precision** = hits / intervals, **recall** = found / present, **F1** = 2PR / (P + R);
- **frame precision** = |C ∧ G| / |C| and **frame recall** = |C ∧ G| / |G| over (second, step)
  cells (C = constraint matrix, G = ground truth); their magnitudes are those of Table A.1 (the
  thesis's 13.3 / 11.4 % are consistent with its IoU of 7.9 %, which interval-level recall,
  always ≥ 1 − outside = 39 %, is not) — we report both readings;
- **IoU** = Σ|C ∧ G| / Σ|C ∨ G| and **outside** = present steps not found / present — the
  definitions of :mod:`instructvid.steps.stats` (``constraint_iou``, ``outside_constraints``),
  computed by its :func:`~instructvid.steps.stats.video_statistics`.

Counts are pooled over a task's videos, the ratios computed per task, then averaged over the
tasks ("averaged over 18 primary tasks", as Table A.1). With one interval per step, recall =
1 − outside.

**Threshold** (:func:`select_threshold`): each matched step has the similarity of its chosen
window; a step whose similarity is below the threshold gets no interval. The threshold that
maximises F1 pooled over the validation videos is chosen among the observed similarities (ties:
the lowest, i.e. keep more intervals).

**Random baseline** (:func:`random_intervals`): every interval moved to a uniformly random start
in ``[0, T − length]``, same step and length; averaged over draws.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from instructvid.io.crosstask import Segment, segments_to_matrix
from instructvid.steps.stats import video_statistics

__all__ = [
    "METRICS",
    "ConstraintCounts",
    "ScoredInterval",
    "constraint_counts",
    "random_intervals",
    "select_threshold",
    "summarize",
]

#: The reported ratios, in table order.
METRICS: tuple[str, ...] = (
    "precision",
    "recall",
    "f1",
    "frame_precision",
    "frame_recall",
    "iou",
    "outside",
)


@dataclass
class ConstraintCounts:
    """Additive counts behind the ratios (see the module docstring); ``+`` pools them."""

    n_videos: int = 0
    intervals: int = 0
    hits: int = 0
    present: int = 0
    found: int = 0
    cells_constraint: int = 0
    cells_truth: int = 0
    cells_both: int = 0
    cells_union: int = 0
    outside: int = 0

    def __add__(self, other: ConstraintCounts) -> ConstraintCounts:
        return ConstraintCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def ratios(self) -> dict[str, float]:
        """The :data:`METRICS` as fractions in [0, 1] (NaN when undefined)."""

        def ratio(a: float, b: float) -> float:
            return a / b if b else math.nan

        p = ratio(self.hits, self.intervals)
        r = ratio(self.found, self.present)
        f1 = 2 * p * r / (p + r) if p + r > 0 else (0.0 if p == 0 or r == 0 else math.nan)
        return {
            "precision": p,
            "recall": r,
            "f1": f1,
            "frame_precision": ratio(self.cells_both, self.cells_constraint),
            "frame_recall": ratio(self.cells_both, self.cells_truth),
            "iou": ratio(self.cells_both, self.cells_union),
            "outside": ratio(self.outside, self.present),
        }


def constraint_counts(
    constraints: Sequence[Segment], ground_truth: np.ndarray, *, video_id: str = "?"
) -> ConstraintCounts:
    """Counts of one video.

    Args:
        constraints: the video's intervals (steps 1-based, seconds).
        ground_truth: (T, K) 0/1 ground truth, one row per second.
        video_id: for messages.
    """
    gt = np.asarray(ground_truth, dtype=bool)
    n_frames, n_steps = gt.shape
    c = segments_to_matrix(constraints, n_frames, n_steps, source=f"constraints of {video_id}")
    stats = video_statistics("", video_id, gt, [], c)
    hits = 0
    for seg in constraints:
        rows = seg.rows()
        hits += bool(gt[rows.start : min(rows.stop, n_frames), seg.step - 1].any())
    present = int(stats.steps_present)
    outside = int(stats.steps_outside_constraints or 0)
    return ConstraintCounts(
        n_videos=1,
        intervals=len(constraints),
        hits=hits,
        present=present,
        found=present - outside,
        cells_constraint=int(c.astype(bool).sum()),
        cells_truth=int(gt.sum()),
        cells_both=int(stats.constraint_intersection or 0),
        cells_union=int(stats.constraint_union or 0),
        outside=outside,
    )


def summarize(per_video: Iterable[tuple[str, ConstraintCounts]], *, method: str) -> dict:
    """Per-task ratios and their mean over tasks, in the project's evaluation JSON shape.

    Args:
        per_video: ``(task_id, counts)`` of every evaluated video.
        method: the name recorded in the result.

    Returns:
        ``{"metric": "constraint_quality", "method", "per_task": {task: {metric: value}},
        "mean": {metric: mean over tasks}, "pooled": {metric: over all videos}, "n_videos",
        "counts": pooled counts}``.
    """
    tasks: dict[str, ConstraintCounts] = {}
    for task_id, counts in per_video:
        tasks[task_id] = tasks.get(task_id, ConstraintCounts()) + counts
    pooled = sum(tasks.values(), ConstraintCounts())
    per_task = {t: c.ratios() for t, c in sorted(tasks.items())}
    mean = {
        m: (
            float(np.mean(vals))
            if (vals := [r[m] for r in per_task.values() if not math.isnan(r[m])])
            else math.nan
        )
        for m in METRICS
    }
    return {
        "metric": "constraint_quality",
        "method": method,
        "per_task": per_task,
        "mean": mean,
        "pooled": pooled.ratios(),
        "n_videos": pooled.n_videos,
        "counts": asdict(pooled),
    }


@dataclass(frozen=True)
class ScoredInterval:
    """A candidate interval with the similarity of the window it came from."""

    segment: Segment
    score: float


def select_threshold(
    videos: Iterable[tuple[Sequence[ScoredInterval], np.ndarray]],
) -> tuple[float, dict[str, float]]:
    """The similarity threshold maximising F1 pooled over videos (module docstring).

    Args:
        videos: per video, its scored intervals (all of them, before any threshold) and its
            (T, K) ground truth.

    Returns:
        ``(threshold, {"precision", "recall", "f1", "intervals"})``; intervals with
        ``score >= threshold`` are kept. ``-inf`` (keep all) when there is no interval or no
        ground truth, or when no threshold gives a hit.
    """
    scores: list[float] = []
    hits: list[int] = []
    present = 0
    for intervals, truth in videos:
        gt = np.asarray(truth, dtype=bool)
        present += int(gt.any(axis=0).sum())
        for item in intervals:
            rows = item.segment.rows()
            scores.append(float(item.score))
            hits.append(
                int(gt[rows.start : min(rows.stop, gt.shape[0]), item.segment.step - 1].any())
            )
    best = (-math.inf, {"precision": math.nan, "recall": math.nan, "f1": 0.0, "intervals": 0})
    if not scores or present == 0:
        return best
    order = np.argsort(-np.asarray(scores), kind="stable")
    s = np.asarray(scores)[order]
    tp = np.cumsum(np.asarray(hits)[order])
    n = np.arange(1, len(s) + 1)
    # Only cut between different scores: the last index of each run of equal scores.
    ends = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    f1 = 2 * tp[ends] / (n[ends] + present)
    if f1.max() <= 0:
        all_tp = int(tp[-1])
        return -math.inf, {
            "precision": all_tp / len(s),
            "recall": all_tp / present,
            "f1": 0.0,
            "intervals": len(s),
        }
    # argmax of the reversed array = the largest n (lowest threshold) among ties
    pick = ends[len(ends) - 1 - int(np.argmax(f1[::-1]))]
    k_tp, k_n = int(tp[pick]), int(n[pick])
    return float(s[pick]), {
        "precision": k_tp / k_n,
        "recall": k_tp / present,
        "f1": 2 * k_tp / (k_n + present),
        "intervals": k_n,
    }


def random_intervals(
    segments: Sequence[Segment], duration: float, rng: np.random.Generator
) -> list[Segment]:
    """The same intervals (steps, lengths) at uniformly random starts in ``[0, duration − len]``."""
    out = []
    for seg in segments:
        length = min(seg.end - seg.start, duration)
        start = float(rng.uniform(0.0, max(duration - length, 0.0)))
        out.append(Segment(seg.step, round(start, 3), round(start + length, 3)))
    return out
