"""Dataset statistics of a CrossTask-layout dataset, as in thesis Table 3.2 (§3.5.2).

Definitions (per video, then aggregated per task; the "total" row averages the tasks, as the
paper's "Average" row does, except videos and hours, which are summed):

- **duration**: T seconds (feature rows).
- **background**: fraction of the video's seconds not covered by any annotated step.
- **missing steps**: fraction of the task's K steps with no annotated segment in the video.
- **order consistency** (Alayrac et al. 2018, as used by the thesis): order the annotated steps
  by their first start time; the length of the longest subsequence of them in task order
  (longest increasing subsequence, LIS) over their number. ``2 → 1 → 3`` gives 2/3. This is the
  default (``order="lis"``) because it is the share of a video's steps that an order-respecting
  parse can keep, and the thesis gives the two numbers together: "average order consistency is
  high (86 %)" and the best order-respecting parse "still misses 14 %" of the steps. The other
  reading of the thesis's example, the fraction of *pairs* of annotated steps in task order
  (also 2/3 for ``2 → 1 → 3``), is ``order="pairwise"``; the two differ on longer sequences
  (``2 → 3 → 4 → 1``: LIS 3/4, pairs 3/6). Videos with fewer than two annotated steps are left
  out of the task's mean under both.
- **best order-respecting parse recall**: the CrossTask recall of the best prediction that
  respects the task order (one second per step, increasing), found by the exactly-one DP on the
  ground-truth matrix; pooled over the task's videos (Σ hits / Σ steps present). The thesis says
  it "still misses 14 % of steps" (recall 0.86).
- **constraint IoU** (when narration constraints exist): Σ|C ∧ G| / Σ|C ∨ G| over all (second,
  step) cells of the task's videos, C the constraint matrix and G the ground truth (A.1.1: 7.9 %).
- **outside constraints**: fraction of (video, present step) pairs whose ground-truth seconds
  share none with that step's constraint seconds (A.1.1: 61 %).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from instructvid.align.dp import ordered_assignment
from instructvid.io.crosstask import CrossTaskData, Segment
from instructvid.steps.paper import DATASET_TOTALS, TABLE_3_2, TABLE_3_2_TOTAL, match_paper_title
from instructvid.types import ProgressCallback

#: The two readings of the thesis's order consistency (module docstring); the first is ours.
ORDER_DEFINITIONS: tuple[str, ...] = ("lis", "pairwise")


def _longest_increasing(sequence: Sequence[int]) -> int:
    tails: list[int] = []
    for value in sequence:
        i = int(np.searchsorted(tails, value))
        if i == len(tails):
            tails.append(value)
        else:
            tails[i] = value
    return len(tails)


def order_consistency(segments: Sequence[Segment], order: str = "lis") -> float | None:
    """Order consistency of one video's annotated steps, ordered by their first start time.

    Args:
        segments: a video's annotated segments (steps 1-based, times in seconds).
        order: ``"lis"`` (longest in-order subsequence / steps) or ``"pairwise"`` (pairs in
            order / pairs); see the module docstring.

    Returns:
        a fraction in [0, 1], or ``None`` when fewer than two distinct steps are annotated.
    """
    if order not in ORDER_DEFINITIONS:
        raise ValueError(f"order must be one of {ORDER_DEFINITIONS}, got {order!r}")
    first_start: dict[int, float] = {}
    for seg in segments:
        first_start[seg.step] = min(seg.start, first_start.get(seg.step, math.inf))
    sequence = [step for step, _ in sorted(first_start.items(), key=lambda kv: (kv[1], kv[0]))]
    n = len(sequence)
    if n < 2:
        return None
    if order == "lis":
        return _longest_increasing(sequence) / n
    in_order = sum(sequence[i] < sequence[j] for i in range(n) for j in range(i + 1, n))
    return in_order / (n * (n - 1) / 2)


@dataclass(frozen=True)
class VideoStatistics:
    """Statistics of one annotated video. Counts are in seconds (rows) or steps."""

    task_id: str
    video_id: str
    n_frames: int
    n_steps: int
    steps_present: int
    background_frames: int
    order_consistency: float | None
    best_parse_hits: int
    constraint_intersection: int | None = None
    constraint_union: int | None = None
    steps_outside_constraints: int | None = None


def video_statistics(
    task_id: str,
    video_id: str,
    ground_truth: np.ndarray,
    segments: Sequence[Segment],
    constraints: np.ndarray | None = None,
    order: str = "lis",
) -> VideoStatistics:
    """Statistics of one video.

    Args:
        ground_truth: (T, K) 0/1 matrix, one row per second.
        segments: the annotated segments the matrix was made from (for the order).
        constraints: optional (T, K) 0/1 narration-interval matrix.
        order: the order-consistency definition (:data:`ORDER_DEFINITIONS`).
    """
    gt = np.asarray(ground_truth, dtype=bool)
    n_frames, n_steps = gt.shape
    present = gt.any(axis=0)
    best = ordered_assignment(gt.astype(np.float64), exactly_one=True, maximize=True)
    hits = int((best.astype(bool) & gt).sum())
    inter = union = outside = None
    if constraints is not None:
        c = np.asarray(constraints, dtype=bool)
        if c.shape != gt.shape:
            raise ValueError(
                f"video {video_id}: constraints {c.shape} and ground truth {gt.shape} differ"
            )
        inter = int((c & gt).sum())
        union = int((c | gt).sum())
        outside = int((present & ~(c & gt).any(axis=0)).sum())
    return VideoStatistics(
        task_id=task_id,
        video_id=video_id,
        n_frames=n_frames,
        n_steps=n_steps,
        steps_present=int(present.sum()),
        background_frames=int((~gt.any(axis=1)).sum()),
        order_consistency=order_consistency(segments, order),
        best_parse_hits=hits,
        constraint_intersection=inter,
        constraint_union=union,
        steps_outside_constraints=outside,
    )


@dataclass
class TaskStatisticsRow:
    """Aggregated statistics of one task (or of all tasks: ``task_id == "total"``).

    Ratios are fractions in [0, 1]; ``None`` where undefined (e.g. no constraints).
    """

    task_id: str
    title: str
    n_videos: int
    hours: float
    n_steps: float
    mean_duration_s: float
    missing_steps: float
    background: float
    order_consistency: float | None
    best_parse_recall: float
    constraint_iou: float | None = None
    outside_constraints: float | None = None
    paper: dict[str, float] = field(default_factory=dict)


@dataclass
class DatasetTotals:
    """The dataset's size (thesis §3.5.1–3.5.2, Table 3.2's caption), with the paper's figures.

    Hours are Σ T / 3600 over the videos whose feature file could be read
    (``missing_features`` counts the others). A video is *shared* when ``videos.csv`` lists it
    under more than one task; ``shared_fraction`` = shared / distinct videos (the thesis: "the
    primary and related tasks share about 2.6 % of videos").
    """

    primary_videos: int
    primary_hours: float
    related_videos: int
    related_hours: float
    annotated_videos: int
    distinct_videos: int
    shared_videos: int
    shared_fraction: float
    shared_primary_related: int
    missing_features: int
    paper: dict[str, float] = field(default_factory=dict)


@dataclass
class DatasetStatistics:
    """Per-task rows and the total row, plus the per-video records they came from."""

    tasks: list[TaskStatisticsRow]
    total: TaskStatisticsRow
    videos: list[VideoStatistics]
    order_definition: str = "lis"
    totals: DatasetTotals | None = None

    def to_json(self) -> dict:
        """A JSON-ready dict: ``{"per_task": [...], "total": {...}, "order_definition",
        "totals": {...}}``."""
        return {
            "metric": "dataset_statistics",
            "per_task": [asdict(r) for r in self.tasks],
            "total": asdict(self.total),
            "order_definition": self.order_definition,
            "totals": asdict(self.totals) if self.totals is not None else None,
        }


def dataset_totals(
    data: CrossTaskData, *, progress: ProgressCallback | None = None
) -> DatasetTotals:
    """Videos and hours of the primary and related tasks, annotated and shared videos.

    Every video of ``videos.csv`` counts (validation ones included); only the feature files'
    headers are read (for T).
    """
    tasks_of: dict[str, set[str]] = {}
    for task_id, vid in data.iter_videos():
        tasks_of.setdefault(vid, set()).add(task_id)
    primary, related = set(data.primary), set(data.related)
    frames: dict[str, int | None] = {}
    for done, vid in enumerate(sorted(tasks_of), start=1):
        try:
            frames[vid] = data.n_frames(vid)
        except (OSError, ValueError):
            frames[vid] = None
        if progress is not None:
            progress(done, len(tasks_of))

    def videos_and_hours(group: set[str]) -> tuple[int, float]:
        vids = [v for v, tasks in tasks_of.items() if tasks & group]
        return len(vids), sum(frames[v] or 0 for v in vids) / 3600.0

    n_primary, h_primary = videos_and_hours(primary)
    n_related, h_related = videos_and_hours(related)
    annotated = {
        vid for task_id, vid in data.iter_videos(data.primary) if data.has_annotation(task_id, vid)
    }
    shared = sum(len(tasks) > 1 for tasks in tasks_of.values())
    return DatasetTotals(
        primary_videos=n_primary,
        primary_hours=h_primary,
        related_videos=n_related,
        related_hours=h_related,
        annotated_videos=len(annotated),
        distinct_videos=len(tasks_of),
        shared_videos=shared,
        shared_fraction=shared / len(tasks_of) if tasks_of else 0.0,
        shared_primary_related=sum(
            bool(tasks & primary) and bool(tasks & related) for tasks in tasks_of.values()
        ),
        missing_features=sum(v is None for v in frames.values()),
        paper=dict(DATASET_TOTALS),
    )


def aggregate_task(
    task_id: str, title: str, videos: Sequence[VideoStatistics]
) -> TaskStatisticsRow:
    """Aggregate per-video statistics of one task into a Table 3.2 row."""
    if not videos:
        raise ValueError(f"task {task_id} has no annotated videos to aggregate")
    orders = [v.order_consistency for v in videos if v.order_consistency is not None]
    has_constraints = all(v.constraint_union is not None for v in videos)
    present = sum(v.steps_present for v in videos)
    row = TaskStatisticsRow(
        task_id=task_id,
        title=title,
        n_videos=len(videos),
        hours=sum(v.n_frames for v in videos) / 3600.0,
        n_steps=float(videos[0].n_steps),
        mean_duration_s=float(np.mean([v.n_frames for v in videos])),
        missing_steps=float(np.mean([1 - v.steps_present / v.n_steps for v in videos])),
        background=float(np.mean([v.background_frames / v.n_frames for v in videos])),
        order_consistency=float(np.mean(orders)) if orders else None,
        best_parse_recall=sum(v.best_parse_hits for v in videos) / present if present else math.nan,
    )
    if has_constraints:
        union = sum(v.constraint_union or 0 for v in videos)
        row.constraint_iou = (
            sum(v.constraint_intersection or 0 for v in videos) / union if union else 0.0
        )
        row.outside_constraints = (
            sum(v.steps_outside_constraints or 0 for v in videos) / present if present else math.nan
        )
    paper_title = match_paper_title(title)
    if paper_title is not None:
        row.paper = asdict(TABLE_3_2[paper_title])
    return row


def aggregate_total(rows: Sequence[TaskStatisticsRow]) -> TaskStatisticsRow:
    """The "Average" row: videos and hours summed, every other figure averaged over tasks."""

    def mean_of(name: str) -> float | None:
        values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return float(np.mean(values)) if values else None

    return TaskStatisticsRow(
        task_id="total",
        title="Average / total",
        n_videos=sum(r.n_videos for r in rows),
        hours=sum(r.hours for r in rows),
        n_steps=mean_of("n_steps") or math.nan,
        mean_duration_s=mean_of("mean_duration_s") or math.nan,
        missing_steps=mean_of("missing_steps") or 0.0,
        background=mean_of("background") or 0.0,
        order_consistency=mean_of("order_consistency"),
        best_parse_recall=mean_of("best_parse_recall") or math.nan,
        constraint_iou=mean_of("constraint_iou"),
        outside_constraints=mean_of("outside_constraints"),
        paper=dict(TABLE_3_2_TOTAL),
    )


def dataset_statistics(
    data: CrossTaskData,
    *,
    task_ids: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    order: str = "lis",
    totals: bool = True,
) -> DatasetStatistics:
    """Table 3.2 statistics of the annotated videos of the primary tasks.

    Every video of ``videos.csv`` (validation ones included, as in the paper) that has an
    annotation file is counted. Features are only opened for their header (T).

    Args:
        data: an opened dataset.
        task_ids: restrict to these tasks (default: all primary tasks).
        progress: called as ``progress(done, total)`` after each video.
        order: the order-consistency definition (:data:`ORDER_DEFINITIONS`).
        totals: also count :func:`dataset_totals` (reads the header of every video's features).
    """
    if order not in ORDER_DEFINITIONS:
        raise ValueError(f"order must be one of {ORDER_DEFINITIONS}, got {order!r}")
    wanted = list(task_ids) if task_ids is not None else list(data.primary)
    pairs = [(t, v) for t, v in data.iter_videos(wanted) if data.has_annotation(t, v)]
    per_video: list[VideoStatistics] = []
    for done, (task_id, vid) in enumerate(pairs, start=1):
        segments = data.segments(task_id, vid)
        gt = data.ground_truth(task_id, vid)
        cons = data.constraints(task_id, vid) if data.has_constraints(task_id, vid) else None
        per_video.append(video_statistics(task_id, vid, gt, segments, cons, order))
        if progress is not None:
            progress(done, len(pairs))
    rows = []
    for task_id in wanted:
        vids = [v for v in per_video if v.task_id == task_id]
        if not vids:
            warnings.warn(f"task {task_id} has no annotated videos; left out", stacklevel=2)
            continue
        rows.append(aggregate_task(task_id, data.task(task_id).title, vids))
    if not rows:
        raise ValueError(f"no annotated videos found under {data.paths.annotations}")
    return DatasetStatistics(
        tasks=rows,
        total=aggregate_total(rows),
        videos=per_video,
        order_definition=order,
        totals=dataset_totals(data) if totals else None,
    )
