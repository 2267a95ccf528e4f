"""Constraint folders evaluated side by side on the annotated test videos (``steps
constraints-eval``, thesis Table A.1).

:func:`run_constraints_eval` builds constraints with each text representation
(:func:`~instructvid.steps.narration.constraints.build_constraints`, primary tasks, threshold chosen on the
validation videos) and scores them, a random baseline with the same intervals and, when the
dataset has them, the released constraints with :func:`evaluate_folder` on the annotated
non-validation videos of the primary tasks (:func:`evaluation_videos`). The measures are those of
:mod:`instructvid.steps.narration.metrics` (definitions there); the tables come from
:mod:`instructvid.steps.narration.report`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_write_json, atomic_write_text
from instructvid.io.crosstask import CrossTaskData, Segment, read_segments
from instructvid.io.ids import safe_join
from instructvid.steps.narration.constraints import DEFAULT_LENGTH, build_constraints
from instructvid.steps.narration.matching import DEFAULT_WINDOW, default_stride
from instructvid.steps.narration.metrics import (
    ConstraintCounts,
    constraint_counts,
    random_intervals,
    summarize,
)
from instructvid.steps.narration.report import PAPER_TABLE_A1, markdown_table, mean_table
from instructvid.types import PathLike, ProgressCallback

__all__ = ["evaluate_folder", "evaluation_videos", "run_constraints_eval"]


def evaluation_videos(
    data: CrossTaskData, task_ids: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """Annotated videos of the primary tasks that are not validation videos."""
    wanted = list(task_ids) if task_ids is not None else list(data.primary)
    out = []
    for task_id in wanted:
        val = set(data.val_videos.get(task_id, ()))
        out.extend(
            (task_id, v)
            for v in data.videos.get(task_id, [])
            if v not in val and data.has_annotation(task_id, v)
        )
    return out


def _read_folder(folder: Path, task_id: str, video_id: str, n_steps: int) -> list[Segment]:
    path = safe_join(folder, f"{task_id}_{video_id}.csv")
    return read_segments(path, n_steps=n_steps) if path.is_file() else []


def evaluate_folder(
    data: CrossTaskData,
    folder: PathLike,
    videos: Sequence[tuple[str, str]],
    *,
    method: str,
    random_draws: int = 0,
    random_state: int = 0,
) -> dict:
    """Quality of the constraint CSVs in ``folder`` (a video without one has no interval).

    Args:
        data: the dataset (ground truth, video lengths).
        folder: holds ``<task>_<vid>.csv``.
        videos: the evaluated (task, video) pairs.
        method: name recorded in the result.
        random_draws: > 0 evaluates instead the random baseline of these intervals
            (:func:`random_intervals`), pooled over that many draws.
        random_state: seed of the draws (draw d of video i uses ``(random_state, d, i)``).

    Returns:
        :func:`summarize`'s dict.
    """
    folder = Path(folder)
    per_video = []
    for i, (task_id, vid) in enumerate(videos):
        n_steps = data.task(task_id).n_steps
        gt = data.ground_truth(task_id, vid)
        segments = _read_folder(folder, task_id, vid, n_steps)
        if random_draws <= 0:
            per_video.append((task_id, constraint_counts(segments, gt, video_id=vid)))
            continue
        total = ConstraintCounts()
        for d in range(random_draws):
            rng = np.random.default_rng([random_state, d, i])
            moved = random_intervals(segments, float(gt.shape[0]), rng)
            total = total + constraint_counts(moved, gt, video_id=vid)
        per_video.append((task_id, total))
    return summarize(per_video, method=method)


def run_constraints_eval(
    data: CrossTaskData,
    subtitles: PathLike,
    out: PathLike,
    texts: Sequence[str],
    *,
    window: int | None = None,
    stride: int | None = None,
    length: float | None = None,
    shift: float = 0.0,
    text_model: PathLike | None = None,
    jobs: int = 1,
    random_draws: int = 10,
    random_state: int = 0,
    progress: Callable[[str], AbstractContextManager[ProgressCallback]] | None = None,
) -> dict:
    """Constraints from each representation (``OUT/<text>/``, primary tasks only, threshold
    chosen on the validation videos), evaluated on the other annotated videos, beside a random
    baseline with the same intervals and, when ``DATA`` has them, the released constraints.

    Writes ``OUT/constraints_eval.json`` and ``OUT/constraints_eval.md``; returns the JSON dict
    ``{"metric", "n_videos", "methods": {name: summarize-dict}, "thresholds", "table",
    "paper"}``.
    """

    out = Path(out)
    videos = evaluation_videos(data)
    if not videos:
        raise ValueError("no annotated non-validation video of a primary task to evaluate on")
    methods: dict[str, dict] = {}
    thresholds: dict[str, dict] = {}
    for text in texts:
        ctx = progress(text) if progress is not None else nullcontext(None)
        with ctx as update:
            run = build_constraints(
                data,
                subtitles,
                out / text,
                text=text,
                window=window or DEFAULT_WINDOW,
                stride=stride or default_stride(text),
                length=length or DEFAULT_LENGTH,
                shift=shift,
                text_model=text_model if text == "learned" else None,
                task_ids=list(data.primary),
                jobs=jobs,
                random_state=random_state,
                progress=update,
            )
        thresholds[text] = {"threshold": run.threshold, "validation": run.validation}
        methods[text] = evaluate_folder(data, out / text, videos, method=text)
        methods[f"random ({text})"] = evaluate_folder(
            data,
            out / text,
            videos,
            method=f"random ({text})",
            random_draws=random_draws,
            random_state=random_state,
        )
    if data.paths.constraints.is_dir():
        methods["released"] = evaluate_folder(
            data, data.paths.constraints, videos, method="released"
        )
    result = {
        "metric": "constraint_quality",
        "n_videos": len(videos),
        "methods": methods,
        "thresholds": thresholds,
        "table": mean_table(methods),
        "paper": PAPER_TABLE_A1,
    }
    atomic_write_json(out / "constraints_eval.json", result)
    atomic_write_text(out / "constraints_eval.md", markdown_table(result))
    return result
