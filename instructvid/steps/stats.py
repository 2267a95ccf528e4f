"""Dataset statistics of a CrossTask-layout dataset, as in thesis Table 3.2 (§3.5.2).

Definitions (per video, then aggregated per task; the "total" row averages the tasks, as the
paper's "Average" row does, except videos and hours, which are summed):

- **duration**: T seconds (feature rows).
- **background**: fraction of the video's seconds not covered by any annotated step.
- **missing steps**: fraction of the task's K steps with no annotated segment in the video.
- **order consistency** (Alayrac et al. 2018, as used by the thesis): order the annotated steps
  by their first start time; over all pairs of them, the fraction whose step indices are in task
  order. ``2 → 1 → 3`` gives 2/3. Videos with fewer than two annotated steps have no pairs and
  are left out of the task's mean.
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
from instructvid.steps.paper import TABLE_3_2, TABLE_3_2_TOTAL, match_paper_title
from instructvid.types import ProgressCallback


def order_consistency(segments: Sequence[Segment]) -> float | None:
    """Fraction of pairs of annotated steps, ordered by first start time, that are in task order.

    Args:
        segments: a video's annotated segments (steps 1-based, times in seconds).

    Returns:
        a fraction in [0, 1], or ``None`` when fewer than two distinct steps are annotated.
    """
    first_start: dict[int, float] = {}
    for seg in segments:
        first_start[seg.step] = min(seg.start, first_start.get(seg.step, math.inf))
    sequence = [step for step, _ in sorted(first_start.items(), key=lambda kv: (kv[1], kv[0]))]
    n = len(sequence)
    if n < 2:
        return None
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
) -> VideoStatistics:
    """Statistics of one video.

    Args:
        ground_truth: (T, K) 0/1 matrix, one row per second.
        segments: the annotated segments the matrix was made from (for the order).
        constraints: optional (T, K) 0/1 narration-interval matrix.
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
        order_consistency=order_consistency(segments),
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
class DatasetStatistics:
    """Per-task rows and the total row, plus the per-video records they came from."""

    tasks: list[TaskStatisticsRow]
    total: TaskStatisticsRow
    videos: list[VideoStatistics]

    def to_json(self) -> dict:
        """A JSON-ready dict: ``{"per_task": [...], "total": {...}}``."""
        return {
            "metric": "dataset_statistics",
            "per_task": [asdict(r) for r in self.tasks],
            "total": asdict(self.total),
        }


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
) -> DatasetStatistics:
    """Table 3.2 statistics of the annotated videos of the primary tasks.

    Every video of ``videos.csv`` (validation ones included, as in the paper) that has an
    annotation file is counted. Features are only opened for their header (T).

    Args:
        data: an opened dataset.
        task_ids: restrict to these tasks (default: all primary tasks).
        progress: called as ``progress(done, total)`` after each video.
    """
    wanted = list(task_ids) if task_ids is not None else list(data.primary)
    pairs = [(t, v) for t, v in data.iter_videos(wanted) if data.has_annotation(t, v)]
    per_video: list[VideoStatistics] = []
    for done, (task_id, vid) in enumerate(pairs, start=1):
        segments = data.segments(task_id, vid)
        gt = data.ground_truth(task_id, vid)
        cons = data.constraints(task_id, vid) if data.has_constraints(task_id, vid) else None
        per_video.append(video_statistics(task_id, vid, gt, segments, cons))
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
    return DatasetStatistics(tasks=rows, total=aggregate_total(rows), videos=per_video)
