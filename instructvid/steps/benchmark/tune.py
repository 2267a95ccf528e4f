"""Hyper-parameter choice on the fixed validation videos (thesis §3.4.4, §3.6.1).

Every point of a grid (``"lr=1e-5,1e-4;dropout=0.3,0.5"``: the Cartesian product) trains the
method on the training videos of split 0 (``n_train`` per primary task, plus the related tasks
when the method uses them) and is scored by recall on the validation videos of
``videos_val.csv`` — never on test videos. The best point (highest validation recall; ties go
to the first in grid order) is the choice. Each point's result is cached under
``OUT/points/``, so an interrupted search resumes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import CrossTaskData
from instructvid.metrics.recall import crosstask_recall
from instructvid.steps.benchmark.methods import training_set
from instructvid.steps.benchmark.protocol import make_splits
from instructvid.steps.benchmark.registry import MethodRegistry, MethodSpec, default_registry
from instructvid.steps.benchmark.types import MethodOptions, Split
from instructvid.types import ProgressCallback

__all__ = ["TUNABLE", "parse_grid", "tune"]

#: Hyper-parameters a grid may name (``fw_iterations`` and ``ridge`` only for ``alayrac``).
TUNABLE: tuple[str, ...] = (
    "lr",
    "dropout",
    "epochs_init",
    "epochs",
    "batch_videos",
    "fw_iterations",
    "ridge",
)


def parse_grid(text: str) -> dict[str, list[float]]:
    """``"lr=1e-5,1e-4;dropout=0.3,0.5"`` → ``{"lr": [1e-05, 0.0001], "dropout": [0.3, 0.5]}``.

    Raises:
        ValueError: a malformed part, an unknown name, a repeated name or a non-number.
    """
    grid: dict[str, list[float]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, sep, values = part.partition("=")
        name = name.strip()
        if not sep or not values.strip():
            raise ValueError(f"grid part {part!r} is not of the form name=v1,v2,...")
        if name not in TUNABLE:
            raise ValueError(f"unknown hyper-parameter {name!r}; tunable: {', '.join(TUNABLE)}")
        if name in grid:
            raise ValueError(f"hyper-parameter {name!r} appears twice in the grid")
        try:
            grid[name] = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"grid values of {name!r} must be numbers, got {values!r}") from None
    if not grid:
        raise ValueError("the grid is empty; expected e.g. 'lr=1e-5,1e-4;dropout=0.3,0.5'")
    return grid


def _points(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def tune(
    data: CrossTaskData,
    out: str | Path,
    *,
    grid: Mapping[str, Sequence[float]],
    method: str = "component",
    n_train: int = 30,
    seed: int = 0,
    options: MethodOptions | None = None,
    progress: ProgressCallback | None = None,
    registry: MethodRegistry | None = None,
) -> dict[str, Any]:
    """Train ``method`` (a method of ``registry`` that trains; default registry:
    :func:`~instructvid.steps.benchmark.registry.default_registry`) at every grid point and
    score it on the validation videos.

    Returns (and writes to ``OUT/tune.json``)::

        {"method", "grid", "metric": "recall", "n_val_videos",
         "points": [{"params", "mean", "per_task"}], "best": {"params", "mean"}}

    Recalls are fractions. Raises ``ValueError`` when the dataset has no annotated validation
    video or ``method`` is not trainable.
    """
    registry = registry if registry is not None else default_registry()
    trained = registry.trained()
    if method not in trained:
        raise ValueError(
            f"method {method!r} has no hyper-parameters to tune; choose one of {', '.join(trained)}"
        )
    spec = registry[method]
    options = options or MethodOptions(seed=seed)
    out = Path(out)
    val = {
        t: [v for v in data.val_videos.get(t, []) if data.has_annotation(t, v)]
        for t in data.primary
    }
    val = {t: v for t, v in val.items() if v}
    if not val:
        raise ValueError("no annotated validation video (videos_val.csv) to tune on")
    split = make_splits(data, n_splits=1, n_train=n_train, seed=seed)[0]
    truth = {t: {v: data.ground_truth(t, v) for v in vids} for t, vids in val.items()}
    points = _points(grid)
    results = []
    for i, params in enumerate(points):
        point_options = replace(options, hyper={**dict(options.hyper), **params})
        key = {
            "method": method,
            "n_train": n_train,
            "seed": seed,
            "options": point_options.settings(
                ("related", "constraints", "penalty", "stem", "hyper", "a14", "seed")
            ),
        }
        tag = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
        cache = out / "points" / f"{tag}.json"
        cached = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else None
        if cached is None or cached.get("key") != key:
            labels = _fit_predict(data, split, spec, point_options, val, out / "points", tag)
            recall = crosstask_recall(truth, labels)
            cached = {"key": key, "mean": recall.mean, "per_task": recall.per_task}
            atomic_write_json(cache, cached)
            checkpoint = out / "points" / f"{tag}.pt"
            if checkpoint.is_file():
                checkpoint.unlink()  # the point's result is cached; its checkpoint is not needed
        results.append({"params": params, "mean": cached["mean"], "per_task": cached["per_task"]})
        if progress is not None:
            progress(i + 1, len(points))
    best = max(results, key=lambda r: (r["mean"], -results.index(r)))
    summary = {
        "method": method,
        "metric": "recall",
        "grid": {k: list(v) for k, v in grid.items()},
        "n_val_videos": sum(len(v) for v in val.values()),
        "points": results,
        "best": {"params": best["params"], "mean": best["mean"]},
    }
    atomic_write_json(out / "tune.json", summary)
    return summary


def _fit_predict(
    data: CrossTaskData,
    split: Split,
    spec: MethodSpec,
    options: MethodOptions,
    val: Mapping[str, Sequence[str]],
    folder: Path,
    tag: str,
) -> dict[str, dict[str, Any]]:
    assert spec.fit is not None and spec.label is not None
    related = spec.related and options.related
    model = spec.fit(
        data,
        training_set(data, split, related=related),
        options,
        checkpoint=folder / f"{tag}.pt",
    )
    return spec.label(model, data, val)[0]
