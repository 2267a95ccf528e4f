"""Step times in a new video from a trained RUN (``instructvid steps localize``).

The video's (T, d) features (one row per second, e.g. a CrossTask ``<vid>.npy``) are scored
with the run's step classifiers and the exactly-one ordered DP gives one second per step
(thesis §3.4.3). The steps are a task's (``task_id``: a training task, or any task of the
run's dataset) or an explicit list (``steps``): a task never seen in training is parsed with
the components its steps share with the training tasks (novel-task transfer, §3.6.3); words
without a trained component are left out and reported (an
:class:`~instructvid.text.components.UnknownComponentsWarning`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.crosstask import CrossTaskFormatError, open_features
from instructvid.steps.model import Localization
from instructvid.steps.run import LoadedRun, load_run, open_run_data
from instructvid.text.components import UnknownComponentsWarning

__all__ = ["localize", "parse_steps"]


def parse_steps(text: str) -> list[str]:
    """``"pour milk, whisk mixture"`` → ``["pour milk", "whisk mixture"]`` (empty parts error)."""
    steps = [s.strip() for s in text.split(",")]
    if not steps or any(not s for s in steps):
        raise ValueError(f"expected comma-separated step texts, got {text!r}")
    return steps


def _task_steps(loaded: LoadedRun, task_id: str) -> tuple[list[str], str]:
    """Steps of a task: from the run's training tasks, else from its dataset's task cards."""
    if task_id in loaded.model.vocabulary.task_steps:
        return list(loaded.model.vocabulary.task_steps[task_id]), "training task"
    try:
        data = open_run_data(loaded)
        return list(data.task(task_id).steps), "dataset task (not trained on)"
    except (KeyError, CrossTaskFormatError, OSError):
        raise ValueError(
            f"task {task_id!r} is neither a training task of this run nor a task of its "
            "dataset; give its steps with --steps"
        ) from None


def localize(
    run: str | Path,
    features: str | Path,
    *,
    task_id: str | None = None,
    steps: Sequence[str] | None = None,
) -> tuple[Localization, dict[str, Any]]:
    """Localize the steps of a task (or an explicit step list) in one video.

    Args:
        run: a finished RUN folder.
        features: a (T, d) ``.npy`` file, one row per second.
        task_id / steps: exactly one of them.

    Returns:
        (the :class:`Localization`, a JSON-ready dict: ``{"run", "features", "task",
        "source", "n_seconds", "steps": [{"index", "step", "second", "start_s", "end_s",
        "log_prob", "unknown_words"}], "unknown_words"}``; times in seconds).

    Raises:
        ValueError: both or neither of ``task_id``/``steps``, an unknown task, features of the
            wrong dimension, fewer seconds than steps, or no step with a known component.
    """
    if (task_id is None) == (steps is None):
        raise ValueError("give exactly one of a task id or a list of steps")
    loaded = load_run(run)
    if steps is None:
        steps, source = _task_steps(loaded, str(task_id))
    else:
        steps, source = list(steps), "step list"
    mapped = open_features(features)
    x = np.asarray(mapped, dtype=np.float32)
    del mapped
    if x.shape[1] != loaded.model.dim:
        raise ValueError(
            f"{features}: features have {x.shape[1]} dimensions, the model expects "
            f"{loaded.model.dim}"
        )
    if x.shape[0] < len(steps):
        raise ValueError(
            f"{features}: {x.shape[0]} s of features cannot hold {len(steps)} ordered steps"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownComponentsWarning)
        result = loaded.model.localize(x, task_id=task_id, steps=steps)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    payload = {
        "run": str(Path(run)),
        "features": str(Path(features)),
        "task": task_id,
        "source": source,
        **result.to_json(),
        "unknown_words": sorted({w for ws in result.unknown.values() for w in ws}),
    }
    return result, payload
