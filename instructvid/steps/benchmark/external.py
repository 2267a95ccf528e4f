"""External step scores as a benchmark method (the other rows of thesis Table 4.2).

Table 4.2 compares the CrossTask step model with text–video embedding models (e.g. HowTo100M /
MIL-NCE similarities between each second and each step's text). Any such model is evaluated
here by its per-second step scores: a folder of float (T, K) ``.npy`` files, one per video
(``DIR/<task_id>/<video_id>.npy`` or ``DIR/<video_id>.npy``; format in
:mod:`instructvid.io.scores`), T = the video's feature rows (one per second), K = the task's
number of steps in task order, higher = more likely. The method trains nothing: each test video
is labelled by the exactly-one ordered DP maximising the summed scores (as ``random``), the step
mAP is computed from the scores, and with actionness the scores enter eq. 4.4 like any
method's (the validation videos' files are then needed too, to choose α).

``with_step_scores(registry, "mil-nce", DIR)`` returns a copy of a method registry with
``mil-nce`` added (pass it to :func:`~instructvid.steps.benchmark.protocol.run_benchmark`); its
per-split cache key holds the folder and a fingerprint of its files (names, sizes,
modification times), so rewritten scores are re-evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.align.dp import ordered_assignment_batch
from instructvid.io.crosstask import CrossTaskData
from instructvid.io.scores import StepScoresDir
from instructvid.steps.benchmark.registry import MethodRegistry, MethodSpec
from instructvid.steps.benchmark.types import Method, MethodOptions, Predictions, Split

__all__ = [
    "external_method",
    "external_spec",
    "parse_step_scores_option",
    "read_external_scores",
    "with_step_scores",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def read_external_scores(
    data: CrossTaskData, folder: StepScoresDir, videos: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, np.ndarray]]:
    """``{task: {video: float64 (T, K)}}`` of ``videos``, T and K checked against the dataset.

    Raises:
        ScoreFileNotFoundError / ScoreFileError: a missing or malformed file (named).
    """
    return {
        task_id: {
            vid: folder.read(
                task_id, vid, n_seconds=data.n_frames(vid), n_steps=data.task(task_id).n_steps
            )
            for vid in vids
        }
        for task_id, vids in videos.items()
    }


def external_method(folder: str | Path) -> Method:
    """A benchmark method whose step scores are read from ``folder`` (see the module doc)."""
    scores_dir = StepScoresDir(folder)

    def method(
        data: CrossTaskData, split: Split, rng: np.random.Generator, options: MethodOptions
    ) -> Predictions:
        scores = read_external_scores(data, scores_dir, split.test)
        labels = {}
        for task_id, by_vid in scores.items():
            vids = list(by_vid)
            assigned = ordered_assignment_batch(
                [by_vid[v] for v in vids], exactly_one=True, maximize=True
            )
            labels[task_id] = {v: a.copy() for v, a in zip(vids, assigned, strict=True)}
        val_scores = read_external_scores(data, scores_dir, split.val) if split.val else None
        return Predictions(labels=labels, scores=scores, val_scores=val_scores)

    method.__name__ = "external_scores"
    method.__doc__ = f"Step scores read from {scores_dir.root}."
    return method


def external_spec(name: str, folder: str | Path) -> MethodSpec:
    """The method ``name`` reading its step scores from ``folder``.

    Raises:
        ValueError: a name that is not ``[A-Za-z0-9][A-Za-z0-9_.-]*``.
        ScoreFileNotFoundError: ``folder`` is not a folder.
    """
    if not _NAME.match(name):
        raise ValueError(
            f"step-score method name {name!r}: expected letters, digits, '_', '.', '-' "
            "(it names the result files)"
        )
    scores_dir = StepScoresDir(folder)
    root = scores_dir.root.resolve()

    def settings() -> dict[str, Any]:
        return {"step_scores": str(root), "files": scores_dir.fingerprint()}

    return MethodSpec(
        name, external_method(root), options=(), scores=True, settings=settings, external=True
    )


def with_step_scores(registry: MethodRegistry, name: str, folder: str | Path) -> MethodRegistry:
    """A copy of ``registry`` with the method ``name`` reading its step scores from ``folder``
    (an external method of that name already in ``registry`` is replaced).

    Raises:
        ValueError: a name that is not ``[A-Za-z0-9][A-Za-z0-9_.-]*`` or that is a built-in
            method.
        ScoreFileNotFoundError: ``folder`` is not a folder.
    """
    if name in registry and not registry[name].external:
        raise ValueError(f"step-score method name {name!r} is a built-in method; choose another")
    return registry.added(external_spec(name, folder), replace=True)


def parse_step_scores_option(text: str) -> tuple[str, Path]:
    """``"mil-nce=/path/to/dir"`` → ``("mil-nce", Path("/path/to/dir"))``.

    Raises:
        ValueError: not of the form ``NAME=DIR``.
    """
    name, sep, folder = text.partition("=")
    if not sep or not name.strip() or not folder.strip():
        raise ValueError(f"expected NAME=DIR, got {text!r}")
    return name.strip(), Path(folder.strip())
