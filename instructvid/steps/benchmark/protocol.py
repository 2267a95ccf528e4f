"""The CrossTask evaluation protocol (thesis §3.6.1, METHOD §1.7).

Each of ``n_splits`` runs draws, per primary task, ``n_train`` random training videos from the
videos that are not in the fixed validation set (``videos_val.csv``); the remaining annotated
primary videos are the test set. Related-task videos (all of them) join the training set when a
method shares across tasks. Tasks with ``n_train`` videos or fewer keep them all for training
and are not tested (the authors' ``random_split``). Splits are seeded: split ``i`` of seed ``s``
is the same on every machine and for every method.

Methods come by name from a :class:`~instructvid.steps.benchmark.registry.MethodRegistry`
(:func:`~instructvid.steps.benchmark.registry.default_registry` unless one is passed). A method
maps a split to per-video
predictions: a (T, K) 0/1 matrix with one second per step, and optionally (T, K) step scores
(higher = more likely), used for the step mAP and for eq. 4.4. When ``split.val`` is not empty
(the benchmark asks for it when actionness is added and α is chosen on the validation videos)
a method that gives scores also returns the step scores of those videos
(``Predictions.val_scores``). It is called as
``spec.predict(data, split, rng, options)`` with the benchmark's :class:`MethodOptions` (related
tasks, constraint mode, hyper-parameters, device, seed, a folder for checkpoints). Results of
each (method, split) are cached as JSON under ``out/splits/<method>/`` together with the
settings that produced them (split settings and the options the method declared it uses), so
an interrupted benchmark resumes where it stopped and changed settings are recomputed. Trained
methods also checkpoint every epoch under ``out/runs/``.

With ``actionness=`` (:class:`~instructvid.steps.benchmark.actionness.ActionnessSettings`) every method
that gives step scores also yields ``<method>+actionness``: the labels of eq. 4.4 (exactly-one
DP on ``(1 − α) f + α S``) with α chosen per split on the fixed validation videos, or fixed.
Its per-split results are cached under ``out/splits/<method>+actionness/`` with the method's
settings plus the actionness settings (source and its fingerprint, α or the candidates), so
changing the source or α recomputes them and leaves ``<method>.json`` alone.

The methods themselves (``uniform``, ``random``, the trained ones, ``alayrac``) are in
:mod:`instructvid.steps.benchmark.methods`; the types this module shares with them in
:mod:`instructvid.steps.benchmark.types`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import CrossTaskData
from instructvid.metrics.recall import crosstask_recall
from instructvid.metrics.step_map import step_map
from instructvid.metrics.step_recall import step_recall_counts
from instructvid.steps.benchmark.actionness import (
    ActionnessSettings,
    actionness_result,
    validation_videos,
)
from instructvid.steps.benchmark.registry import MethodRegistry, default_registry
from instructvid.steps.benchmark.split_check import check_splits
from instructvid.steps.benchmark.types import ACTIONNESS_SUFFIX, MethodOptions, Predictions, Split
from instructvid.types import ProgressCallback


def make_splits(
    data: CrossTaskData, *, n_splits: int = 20, n_train: int = 30, seed: int = 0
) -> list[Split]:
    """Draw the protocol's seeded splits of the primary tasks.

    Args:
        data: the dataset (validation videos are excluded from both sides).
        n_splits: number of runs (20 in the thesis).
        n_train: training videos per primary task (30 in the thesis).
        seed: base seed; split ``i`` uses ``np.random.default_rng([seed, i])``.
    """
    if n_splits < 1:
        raise ValueError(f"n_splits must be >= 1, got {n_splits}")
    if n_train < 0:
        raise ValueError(f"n_train must be >= 0, got {n_train}")
    splits = []
    for index in range(n_splits):
        rng = np.random.default_rng([seed, index])
        train: dict[str, list[str]] = {}
        test: dict[str, list[str]] = {}
        for task_id in data.primary:
            pool = sorted(data.non_val_videos(task_id))
            if len(pool) > n_train:
                chosen = set(rng.choice(len(pool), size=n_train, replace=False).tolist())
                train[task_id] = [v for i, v in enumerate(pool) if i in chosen]
                test[task_id] = [
                    v
                    for i, v in enumerate(pool)
                    if i not in chosen and data.has_annotation(task_id, v)
                ]
            else:
                train[task_id] = pool
        splits.append(Split(index=index, seed=seed, train=train, test=test))
    return splits


def predict_split(
    data: CrossTaskData,
    split: Split,
    method: str,
    *,
    seed: int = 0,
    options: MethodOptions | None = None,
    registry: MethodRegistry | None = None,
) -> Predictions:
    """Run one method of ``registry`` (default: :func:`default_registry`) on one split; its
    generator is seeded by ``(seed, split, method)``.

    Raises:
        KeyError: an unknown method.
    """
    spec = (registry if registry is not None else default_registry())[method]
    if options is None:
        options = MethodOptions(seed=seed)
    rng = np.random.default_rng([seed, split.index, _stable_hash(method)])
    return spec.predict(data, split, rng, options)


def score_predictions(data: CrossTaskData, split: Split, preds: Predictions) -> dict[str, object]:
    """Recall (and mAP when there are scores) of predictions on ``split.test``.

    Returns:
        ``{"split", "mean", "per_task", "n_videos", "map", "map_per_task"}`` (fractions).
    """
    truth = {
        task_id: {vid: data.ground_truth(task_id, vid) for vid in vids}
        for task_id, vids in split.test.items()
    }
    recall = crosstask_recall(truth, preds.labels)
    result: dict[str, object] = {
        "split": split.index,
        "mean": recall.mean,
        "per_task": dict(recall.per_task),
        "n_videos": recall.n_videos,
        "map": None,
        "map_per_task": None,
        "per_step": step_recall_counts(truth, preds.labels),
    }
    if preds.scores is not None:
        mp = step_map(truth, preds.scores)
        result["map"] = mp.mean
        result["map_per_task"] = dict(mp.per_task)
    return result


def _stable_hash(text: str) -> int:
    return int.from_bytes(text.encode("utf-8")[:8].ljust(8, b"\0"), "little") % (2**31)


def summarise(method: str, per_split: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Mean ± std over splits in the architecture's JSON contract.

    ``std`` is the population standard deviation (ddof=0) of the per-split means; ``per_task``
    holds each task's recall averaged over splits (``per_task_std`` its std).
    """
    means = np.array([float(r["mean"]) for r in per_split])  # type: ignore[arg-type]
    tasks = sorted({t for r in per_split for t in r["per_task"]})  # type: ignore[union-attr]
    per_task = {
        t: [r["per_task"][t] for r in per_split if t in r["per_task"]]  # type: ignore[index,operator]
        for t in tasks
    }
    out: dict[str, object] = {
        "metric": "recall",
        "method": method,
        "per_task": {t: float(np.mean(v)) for t, v in per_task.items()},
        "per_task_std": {t: float(np.std(v)) for t, v in per_task.items()},
        "mean": float(means.mean()),
        "std": float(means.std()),
        "n_videos": int(np.mean([int(r["n_videos"]) for r in per_split])),  # type: ignore[call-overload]
        "n_splits": len(per_split),
        "per_split": [dict(r) for r in per_split],
    }
    maps = [r["map"] for r in per_split if r.get("map") is not None]
    if maps:
        out["map"] = {"mean": float(np.mean(maps)), "std": float(np.std(maps))}
    return out


def run_benchmark(
    data: CrossTaskData,
    out: str | Path,
    *,
    methods: Iterable[str] = ("uniform",),
    n_splits: int = 20,
    n_train: int = 30,
    seed: int = 0,
    options: MethodOptions | None = None,
    progress: Callable[[str, float, int], None] | None = None,
    actionness: ActionnessSettings | None = None,
    registry: MethodRegistry | None = None,
) -> dict[str, dict[str, object]]:
    """Run the protocol for each method; write ``out/<method>.json`` and return the summaries.

    Per-split results are cached under ``out/splits/<method>/split_XX.json`` (written
    atomically); a re-run with the same settings reuses them, so an interrupted benchmark
    resumes. Changing ``n_train``/``seed``/``n_splits``, or an option the method uses,
    invalidates the cache (checked). Trained methods checkpoint under
    ``out/runs/<method>/<settings hash>/``.

    Args:
        methods: names of ``registry``'s methods, run in this order.
        options: passed to every method (``seed`` defaults to ``seed``; ``work_dir`` is set
            here).
        registry: the methods by name (default: :func:`default_registry`; add external step
            scores to a copy, :func:`~instructvid.steps.benchmark.external.with_step_scores`).
        actionness: also score eq. 4.4 for every method that gives step scores: writes
            ``out/<method>+actionness.json`` (same contract, plus ``alpha`` per split, the
            validation recall of every candidate α and the actionness settings) and returns
            it under that name, right after the method's own summary.
        progress: ``progress(method, done, n_splits)`` with ``done`` in splits: called after
            each split and, while a method works on a split (trained methods: every epoch),
            with the fraction of that split done (``1.5`` = halfway through the second split).

    Raises:
        KeyError: an unknown method.
        ValueError: α must be chosen but no tested task has an annotated validation video.
    """
    out = Path(out)
    methods = list(methods)
    registry = registry if registry is not None else default_registry()
    unknown = [m for m in methods if m not in registry]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; known: {', '.join(sorted(registry))}")
    scoring = registry.scoring()
    if options is None:
        options = MethodOptions(seed=seed)
    splits = make_splits(data, n_splits=n_splits, n_train=n_train, seed=seed)
    check_splits(data, splits, n_train)  # no NaN recall from a task left without test videos
    base = {"n_splits": n_splits, "n_train": n_train, "seed": seed}
    actionness_key = actionness.key() if actionness is not None else None
    if (
        actionness is not None
        and actionness.needs_validation
        and any(m in scoring for m in methods)
        and not any(validation_videos(data, list(s.test)) for s in splits)
    ):
        raise ValueError(
            "no annotated validation video (videos_val.csv) of a tested task to choose alpha "
            "on; give a fixed alpha (--alpha)"
        )
    summaries: dict[str, dict[str, object]] = {}
    for method in methods:
        spec = registry[method]
        settings = dict(base)
        used = options.settings(spec.options)
        if used:
            settings["options"] = used
        if spec.settings is not None:
            settings["method"] = spec.settings()
        tag = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        method_options = replace(options, work_dir=out / "runs" / method / tag)
        with_actionness = actionness is not None and spec.scores
        ax_name = f"{method}{ACTIONNESS_SUFFIX}"
        ax_settings = {**settings, "actionness": actionness_key}
        per_split, ax_per_split = [], []
        for split in splits:
            path = out / "splits" / method / f"split_{split.index:02d}.json"
            ax_path = out / "splits" / ax_name / f"split_{split.index:02d}.json"
            cached = _load_cached(path, settings)
            ax_cached = _load_cached(ax_path, ax_settings) if with_actionness else None
            if cached is None or (with_actionness and ax_cached is None):
                run_split = split
                if with_actionness and ax_cached is None and actionness.needs_validation:
                    run_split = replace(split, val=validation_videos(data, list(split.test)))
                split_options = replace(
                    method_options, progress=_within_split(progress, method, split.index, splits)
                )
                preds = predict_split(
                    data, run_split, method, seed=seed, options=split_options, registry=registry
                )
                if cached is None:
                    cached = score_predictions(data, split, preds)
                    atomic_write_json(path, {"settings": settings, "result": cached})
                if with_actionness and ax_cached is None:
                    ax_cached = _actionness_split(data, run_split, method, preds, actionness)
                    atomic_write_json(ax_path, {"settings": ax_settings, "result": ax_cached})
            per_split.append(cached)
            if ax_cached is not None:
                ax_per_split.append(ax_cached)
            if progress is not None:
                progress(method, split.index + 1, len(splits))
        summary = summarise(method, per_split)
        summary["settings"] = settings
        atomic_write_json(out / f"{method}.json", summary)
        summaries[method] = summary
        if with_actionness:
            ax_summary = summarise(ax_name, ax_per_split)
            ax_summary.update(_actionness_summary(method, ax_per_split, actionness_key))
            ax_summary["settings"] = ax_settings
            atomic_write_json(out / f"{ax_name}.json", ax_summary)
            summaries[ax_name] = ax_summary
    return summaries


def _within_split(
    progress: Callable[[str, float, int], None] | None,
    method: str,
    index: int,
    splits: Sequence[Split],
) -> ProgressCallback | None:
    """A method's ``progress(done, total)`` on split ``index`` as ``progress(method, index +
    done / total, n_splits)``."""
    if progress is None:
        return None

    def update(done: int, total: int) -> None:
        if total > 0:
            progress(method, index + min(done / total, 1.0), len(splits))

    return update


def _actionness_split(
    data: CrossTaskData,
    split: Split,
    method: str,
    preds: Predictions,
    actionness: ActionnessSettings,
) -> dict[str, object]:
    if preds.scores is None:
        raise ValueError(f"method {method!r} returned no step scores; actionness cannot apply")
    if actionness.needs_validation and split.val and preds.val_scores is None:
        raise ValueError(f"method {method!r} returned no step scores of the validation videos")
    result = actionness_result(data, actionness, preds.scores, preds.val_scores)
    return {"split": split.index, **result}


def _actionness_summary(
    method: str, per_split: Sequence[Mapping[str, Any]], key: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The fields ``<method>+actionness.json`` adds to :func:`summarise`'s."""
    alphas = [float(r["alpha"]) for r in per_split]
    curves = [r["val_recall"] for r in per_split if r.get("val_recall")]
    extra: dict[str, Any] = {
        "base_method": method,
        "alpha": {
            "per_split": alphas,
            "mean": float(np.mean(alphas)),
            "chosen_on": "validation" if curves else "fixed",
        },
        "actionness": dict(key or {}),
    }
    if curves:
        extra["val_recall"] = {
            a: float(np.mean([c[a] for c in curves if a in c])) for a in curves[0]
        }
        extra["n_val_videos"] = int(per_split[0].get("n_val_videos") or 0)
    return extra


def _load_cached(path: Path, settings: Mapping[str, object]) -> dict[str, object] | None:
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    if payload.get("settings") != dict(settings):
        return None
    return payload["result"]
