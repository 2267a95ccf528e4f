"""Step localization of many videos with a trained model: labels and log-probabilities.

For each task, the model's (T, K) log-softmax scores of each video's (T, d) features (one row
per second), then the exactly-one ordered assignment of the task's K steps (one DP call per
task, :func:`~instructvid.align.dp.ordered_assignment_batch`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from instructvid.align.dp import ordered_assignment_batch
from instructvid.io.crosstask import CrossTaskData
from instructvid.runtime import limit_threads
from instructvid.steps.baselines import uniform_assignment
from instructvid.steps.model import StepModel, log_softmax
from instructvid.text.components import UnknownComponentsWarning
from instructvid.types import ProgressCallback

__all__ = ["predict_videos"]


def predict_videos(
    model: StepModel,
    data: CrossTaskData,
    videos: Mapping[str, Sequence[str]],
    *,
    steps: Mapping[str, Sequence[str]] | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    """Exactly-one step labels and log-probabilities for ``{task_id: [video_id, ...]}``.

    Tasks the model was not trained on are encoded from ``steps[task_id]`` or the dataset's
    task card (novel-task transfer: unknown words are left out of the scores). A task none of
    whose words is known gets the uniform placement (and a warning).

    Returns:
        ``(labels, scores)``: ``labels[task][vid]`` (T, K) uint8 with one 1 per column,
        ``scores[task][vid]`` (T, K) float32 log-softmax.
    """
    with limit_threads(1):
        return _predict_videos(model, data, videos, steps=steps, progress=progress)


def _predict_videos(
    model: StepModel,
    data: CrossTaskData,
    videos: Mapping[str, Sequence[str]],
    *,
    steps: Mapping[str, Sequence[str]] | None,
    progress: ProgressCallback | None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    labels: dict[str, dict[str, np.ndarray]] = {}
    scores: dict[str, dict[str, np.ndarray]] = {}
    total = sum(len(v) for v in videos.values())
    done = 0
    for task_id, vids in videos.items():
        if steps is not None and task_id in steps:
            task_steps = list(steps[task_id])
        else:
            task_steps = list(data.task(task_id).steps)
        encoded = model.vocabulary.encode(task_steps, task_id=task_id)
        labels[task_id] = {}
        scores[task_id] = {}
        if encoded.n_unscorable == len(task_steps):
            # The model knows none of the task's words: every second scores the same for every
            # step; the DP's choice among these ties is taken to be the uniform placement.
            warnings.warn(
                f"task {task_id}: no step has a known component; its videos get the uniform "
                "placement",
                UnknownComponentsWarning,
                stacklevel=3,
            )
            for vid in vids:
                n_frames = data.n_frames(vid)
                labels[task_id][vid] = uniform_assignment(n_frames, len(task_steps))
                scores[task_id][vid] = np.zeros((n_frames, len(task_steps)), np.float32)
                done += 1
                if progress is not None:
                    progress(done, total)
            continue
        v, c = model.step_weights(encoded)
        empty = encoded.matrix.sum(axis=1) == 0
        for vid in vids:
            mapped = data.features(vid, check_finite=True)  # NaN named by file
            x = np.asarray(mapped, dtype=np.float32)
            del mapped
            o = x @ v + c
            if empty.any():
                o[:, empty] = o[:, ~empty].mean(axis=1, keepdims=True)
            lp = log_softmax(o)
            scores[task_id][vid] = lp
            done += 1
            if progress is not None:
                progress(done, total)
        assigned = ordered_assignment_batch(
            [scores[task_id][vid] for vid in vids], exactly_one=True, maximize=True
        )
        labels[task_id] = {vid: a.copy() for vid, a in zip(vids, assigned, strict=True)}
    return labels, scores
