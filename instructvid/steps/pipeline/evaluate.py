"""Recall of a ``steps run`` RUN folder against ground-truth annotations, beside the uniform
baseline (:func:`evaluate_steps`).

Predictions are ``RUN/steps/<task>_<video>.csv``, truth ``ANNOTATIONS/<task>_<video>.csv`` (the
CrossTask format); both are rasterised to (T, K) per-second matrices with T the video's feature
rows. Videos without an annotation are not scored.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from instructvid.io.crosstask import SegmentClippedWarning, read_segments, segments_to_matrix
from instructvid.io.ids import safe_join
from instructvid.metrics.recall import crosstask_recall
from instructvid.steps.baselines import uniform_assignment
from instructvid.steps.pipeline.stages import RunPaths, ok_videos, read_json
from instructvid.types import PathLike

__all__ = ["evaluate_steps"]


def evaluate_steps(run: PathLike, annotations: PathLike) -> dict[str, Any]:
    """CrossTask recall of the run's step times and of the uniform placement.

    Returns:
        ``{"recall": {"per_task", "mean", "n_videos"}, "uniform": {…}, "titles": {task: title}}``
        (fractions).

    Raises:
        FileNotFoundError: RUN has no finished steps stage, or ``annotations`` is not a folder.
    """
    from instructvid.io.crosstask import read_task_cards

    paths = RunPaths(Path(run))
    annotations = Path(annotations)
    if not paths.steps_json.is_file():
        raise FileNotFoundError(f"{paths.root}: no steps.json (the run has not finished)")
    if not annotations.is_dir():
        raise FileNotFoundError(f"annotation folder not found: {annotations}")
    tasks = read_task_cards(paths.dataset.tasks_primary)
    manifest = read_json(paths.features / "manifest.json", {}).get("videos", {})
    truth: dict[str, dict[str, Any]] = {}
    pred: dict[str, dict[str, Any]] = {}
    uniform: dict[str, dict[str, Any]] = {}
    for task_id, vid in ok_videos(paths):
        gt = safe_join(annotations, f"{task_id}_{vid}.csv")
        if not gt.is_file():
            continue
        k = tasks[task_id].n_steps
        n_rows = int(manifest[vid]["rows"])
        mine = safe_join(paths.steps, f"{task_id}_{vid}.csv")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SegmentClippedWarning)
            truth.setdefault(task_id, {})[vid] = segments_to_matrix(
                read_segments(gt, n_steps=k), n_rows, k, source=gt
            )
        pred.setdefault(task_id, {})[vid] = segments_to_matrix(
            read_segments(mine, n_steps=k), n_rows, k, source=mine
        )
        uniform.setdefault(task_id, {})[vid] = uniform_assignment(n_rows, k)
    out: dict[str, Any] = {"titles": {t: tasks[t].title for t in tasks}}
    for name, labels in (("recall", pred), ("uniform", uniform)):
        r = crosstask_recall(truth, labels)
        out[name] = {"per_task": r.per_task, "mean": r.mean, "n_videos": r.n_videos}
    return out
