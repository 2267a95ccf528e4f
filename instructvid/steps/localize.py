"""Step times in a new video from a trained RUN (``instructvid steps localize``).

The video's (T, d) features (one row per second, e.g. a CrossTask ``<vid>.npy``) are scored
with the run's step classifiers and the exactly-one ordered DP gives one second per step
(thesis §3.4.3). The steps are a task's (``task_id``: a training task, or any task of the
run's dataset) or an explicit list (``steps``): a task never seen in training is parsed with
the components its steps share with the training tasks (novel-task transfer, §3.6.3); words
without a trained component are left out and reported (an
:class:`~instructvid.text.components.UnknownComponentsWarning`).

Instead of a RUN, the step scores (T, K) may come from a file (another model's per-second
scores, e.g. a text–video embedding), and a per-second actionness (T,) may be added with the
weight α (thesis eq. 4.4, :mod:`instructvid.align.combine`). α has no default: it depends on
the scales of both scores, so it is chosen on validation videos (``steps benchmark
--actionness`` records the chosen value; the thesis's 0.8 belongs to its models).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.align.combine import localize_with_actionness
from instructvid.align.dp import ordered_assignment
from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError, open_features
from instructvid.io.scores import check_actionness, read_actionness, read_step_scores
from instructvid.steps.benchmark.runs import LoadedRun, load_run, open_run_data
from instructvid.steps.model import Localization
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
    run: str | Path | None = None,
    features: str | Path | None = None,
    *,
    task_id: str | None = None,
    steps: Sequence[str] | None = None,
    step_scores: str | Path | None = None,
    data_root: str | Path | None = None,
    actionness: str | Path | np.ndarray | None = None,
    actionness_source: str | None = None,
    alpha: float | None = None,
    standardize: bool = False,
) -> tuple[Localization, dict[str, Any]]:
    """Localize the steps of a task (or an explicit step list) in one video.

    The step scores f (T, K) come from a RUN (log-softmax of its classifiers on ``features``)
    or from a file (``step_scores``: float (T, K), e.g. a text–video embedding model's
    similarities; format in :mod:`instructvid.io.scores`). With ``actionness`` the steps are
    placed by eq. 4.4 — the exactly-one DP on ``(1 − α) f + α S`` — instead of on f alone.

    Args:
        run: a finished RUN folder; exactly one of ``run`` and ``step_scores``.
        features: the video's (T, d) ``.npy`` file, one row per second (needed with ``run``;
            with ``step_scores`` optional, its T is then checked).
        task_id / steps: with ``run`` exactly one of them. With ``step_scores`` they only name
            the steps (``task_id`` through the task cards of ``data_root``; K must match);
            neither: "step 1" … "step K".
        step_scores: a float (T, K) ``.npy`` file of step scores (higher = more likely).
        data_root: a DATA folder for ``task_id`` with ``step_scores``.
        actionness: per-second actionness S: a float (T,) ``.npy`` file or an array (T,).
        actionness_source: how ``actionness`` was obtained, for the JSON (default: its path).
        alpha: the weight of eq. 4.4 in [0, 1]; required with ``actionness``.
        standardize: z-score S within the video first.

    Returns:
        (the :class:`Localization`, a JSON-ready dict: ``{"run", "step_scores", "features",
        "task", "source", "n_seconds", "steps": [{"index", "step", "second", "start_s",
        "end_s", "score", "log_prob" (with a RUN), "actionness" (with actionness),
        "unknown_words"}], "unknown_words", "alpha", "actionness", "standardize"}``; times in
        seconds; ``alpha`` and ``actionness`` are ``None`` without actionness).

    Raises:
        ValueError: conflicting or missing arguments, an unknown task, features of the wrong
            dimension, fewer seconds than steps, no step with a known component, or score
            files of the wrong shape (``ScoreFileError``, naming the file).
    """
    if (run is None) == (step_scores is None):
        raise ValueError("give exactly one of a RUN folder or a step-score file (--step-scores)")
    if actionness is not None and alpha is None:
        raise ValueError(
            "actionness needs alpha (eq. 4.4's weight); `steps benchmark --actionness` "
            "chooses it on the validation videos and records it in <method>+actionness.json "
            "(the thesis uses 0.8 for its models)"
        )
    if alpha is not None and actionness is None:
        raise ValueError("alpha is the weight of actionness; give actionness too")
    if alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if run is not None:
        result, payload = _localize_run(run, features, task_id=task_id, steps=steps)
    else:
        result, payload = _localize_file(
            Path(step_scores),  # type: ignore[arg-type]
            features,
            task_id=task_id,
            steps=steps,
            data_root=data_root,
        )
    s = None
    if actionness is not None:
        n_seconds = result.labels.shape[0]
        reference = "feature rows" if run is not None else "rows of step scores"
        if isinstance(actionness, str | Path):
            s = read_actionness(actionness, n_seconds=n_seconds, reference=reference)
            actionness_source = actionness_source or str(Path(actionness))
        else:
            s = check_actionness(
                actionness,
                n_seconds=n_seconds,
                source=actionness_source or "<actionness>",
                reference=reference,
            )
        labels = localize_with_actionness(
            result.log_probs,
            s,
            float(alpha),
            standardize=standardize,  # type: ignore[arg-type]
        )
        result = replace(result, labels=labels, seconds=labels.argmax(axis=0))
    rows = result.to_json()["steps"]
    for row in rows:
        k, t = row["index"] - 1, row["second"]
        row["score"] = float(result.log_probs[t, k])
        if run is None:
            del row["log_prob"]
        if s is not None:
            row["actionness"] = float(s[t])
    payload.update(
        {
            "n_seconds": int(result.labels.shape[0]),
            "steps": rows,
            "unknown_words": sorted({w for ws in result.unknown.values() for w in ws}),
            "alpha": None if alpha is None else float(alpha),
            "actionness": actionness_source if s is not None else None,
            "standardize": bool(standardize) if s is not None else None,
        }
    )
    return result, payload


def _localize_run(
    run: str | Path,
    features: str | Path | None,
    *,
    task_id: str | None,
    steps: Sequence[str] | None,
) -> tuple[Localization, dict[str, Any]]:
    if (task_id is None) == (steps is None):
        raise ValueError("give exactly one of a task id or a list of steps")
    if features is None:
        raise ValueError("a RUN scores the video's features: give them (--features)")
    loaded = load_run(run)
    if steps is None:
        steps, source = _task_steps(loaded, str(task_id))
    else:
        steps, source = list(steps), "step list"
    mapped = open_features(features, check_finite=True)  # NaN: an error naming the file
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
        "step_scores": None,
        "features": str(Path(features)),
        "task": task_id,
        "source": source,
    }
    return result, payload


def _localize_file(
    path: Path,
    features: str | Path | None,
    *,
    task_id: str | None,
    steps: Sequence[str] | None,
    data_root: str | Path | None,
) -> tuple[Localization, dict[str, Any]]:
    if task_id is not None and steps is not None:
        raise ValueError("give at most one of a task id or a list of steps")
    n_seconds = None
    if features is not None:
        n_seconds = int(open_features(features).shape[0])
    names: list[str] | None
    if steps is not None:
        names, source = list(steps), "step list"
    elif task_id is not None:
        if data_root is None:
            raise ValueError(
                f"task {task_id!r}: give the DATA folder holding its task card (--data), or "
                "the step names (--steps)"
            )
        try:
            names = list(CrossTaskData.open(data_root).task(task_id).steps)
        except KeyError:
            raise ValueError(f"task {task_id!r} is not a task of {data_root}") from None
        source = "dataset task"
    else:
        names, source = None, "unnamed steps"
    f = read_step_scores(path, n_seconds=n_seconds, n_steps=None if names is None else len(names))
    if names is None:
        names = [f"step {k + 1}" for k in range(f.shape[1])]
    if f.shape[0] < f.shape[1]:
        raise ValueError(f"{path}: {f.shape[0]} s of scores cannot hold {f.shape[1]} ordered steps")
    labels = ordered_assignment(f, exactly_one=True, maximize=True)
    result = Localization(
        steps=tuple(names),
        seconds=labels.argmax(axis=0),
        labels=labels,
        log_probs=f,
        unknown={},
    )
    payload = {
        "run": None,
        "step_scores": str(path),
        "features": None if features is None else str(Path(features)),
        "task": task_id,
        "source": source,
    }
    return result, payload
