"""Novel-task transfer (thesis §3.6.3, Fig. 3.8): train on related tasks only, test on primary.

For each split of the protocol and each n in a grid (up to all related tasks), the component
model is trained on every video of n related tasks — the first n of a seeded random order of
the related tasks, so that the sets are nested — and never on a primary task. It then labels
the split's primary test videos, each primary task being parsed from its step list through the
components it shares with the training tasks (unknown words are left out; a step with no known
word gets a neutral score; a task with no known word at all gets the uniform placement).
Recall vs n is compared with two lines on the same test videos:
``uniform`` and the component model trained on the target tasks themselves (``component``:
primary training videos + related tasks, the proposed method).

Outputs under OUT: ``transfer.json``, per-point caches in ``OUT/points/`` and the two
reference lines' benchmark files in ``OUT/lines/``; interrupted runs resume. The figure
(``transfer.png``) is drawn by :func:`instructvid.report.benchmark.write_transfer_report`.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import CrossTaskData
from instructvid.metrics.recall import crosstask_recall
from instructvid.steps.benchmark.protocol import make_splits, run_benchmark
from instructvid.steps.benchmark.registry import MethodRegistry, MethodSpec, default_registry
from instructvid.steps.benchmark.types import MethodOptions, Split
from instructvid.types import ProgressCallback

__all__ = ["default_counts", "transfer_curve"]


def default_counts(n_related: int) -> list[int]:
    """1, 2, 5, 10, 20, 40, … up to (and including) ``n_related``."""
    grid = [n for n in (1, 2, 5, 10, 20, 40) if n < n_related]
    return [*grid, n_related] if n_related > 0 else []


def transfer_curve(
    data: CrossTaskData,
    out: str | Path,
    *,
    counts: Sequence[int] | None = None,
    n_splits: int = 1,
    n_train: int = 30,
    seed: int = 0,
    options: MethodOptions | None = None,
    lines: bool = True,
    progress: ProgressCallback | None = None,
    registry: MethodRegistry | None = None,
) -> dict[str, Any]:
    """The transfer curve; writes ``OUT/transfer.json`` (the figure:
    :func:`instructvid.report.benchmark.write_transfer_report`).

    ``registry`` gives the ``component`` method trained at each point and the two lines
    (default: :func:`~instructvid.steps.benchmark.registry.default_registry`).

    Returns::

        {"metric": "recall", "counts": [n, ...], "mean": [...], "std": [...],
         "per_split": [[...], ...], "word_coverage": [...],
         "uniform": {"mean", "std"}, "target": {"mean", "std"}, "n_splits", "settings"}

    ``word_coverage[i]``: fraction of the primary tasks' step words that are components of the
    n_i training tasks (averaged over splits). Recalls are fractions.
    """
    options = options or MethodOptions(seed=seed)
    registry = registry if registry is not None else default_registry()
    out = Path(out)
    related = sorted(data.related)
    if not related:
        raise ValueError("the dataset has no related task to train on")
    counts = sorted(set(counts)) if counts else default_counts(len(related))
    bad = [n for n in counts if not 1 <= n <= len(related)]
    if bad:
        raise ValueError(f"counts must be in 1..{len(related)} (related tasks), got {bad}")
    splits = make_splits(data, n_splits=n_splits, n_train=n_train, seed=seed)
    settings = {
        "n_splits": n_splits,
        "n_train": n_train,
        "seed": seed,
        "options": options.settings(("constraints", "penalty", "stem", "hyper", "a14", "seed")),
    }
    per_split: list[list[float]] = []
    coverage: list[list[float]] = []
    done, total = 0, len(splits) * len(counts)
    for split in splits:
        order = [
            related[i]
            for i in np.random.default_rng([seed, split.index, 7]).permutation(len(related))
        ]
        row, cov = [], []
        for n in counts:
            key = {**settings, "split": split.index, "tasks": order[:n]}
            tag = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
            cache = out / "points" / f"split_{split.index:02d}_n{n:03d}_{tag}.json"
            cached = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else None
            if cached is None or cached.get("key") != key:
                cached = _point(
                    data, split, order[:n], registry["component"], options, out / "points", tag
                )
                cached["key"] = key
                atomic_write_json(cache, cached)
            row.append(float(cached["mean"]))
            cov.append(float(cached["word_coverage"]))
            done += 1
            if progress is not None:
                progress(done, total)
        per_split.append(row)
        coverage.append(cov)
    values = np.array(per_split)
    result: dict[str, Any] = {
        "metric": "recall",
        "counts": list(counts),
        "mean": values.mean(axis=0).tolist(),
        "std": values.std(axis=0).tolist(),
        "per_split": per_split,
        "word_coverage": np.array(coverage).mean(axis=0).tolist(),
        "n_splits": n_splits,
        "settings": settings,
    }
    if lines:
        summaries = run_benchmark(
            data,
            out / "lines",
            methods=["uniform", "component"],
            n_splits=n_splits,
            n_train=n_train,
            seed=seed,
            options=replace(options, related=True),
            registry=registry,
        )
        result["uniform"] = {k: summaries["uniform"][k] for k in ("mean", "std")}
        result["target"] = {k: summaries["component"][k] for k in ("mean", "std")}
    atomic_write_json(out / "transfer.json", result)
    return result


def _point(
    data: CrossTaskData,
    split: Split,
    tasks: Sequence[str],
    component: MethodSpec,
    options: MethodOptions,
    folder: Path,
    tag: str,
) -> dict[str, Any]:
    """Train on all videos of ``tasks`` (related), score the split's primary test videos."""
    from instructvid.text.components import UnknownComponentsWarning, step_components

    train = {t: data.non_val_videos(t) for t in tasks}
    train = {t: v for t, v in train.items() if v}
    assert component.fit is not None and component.label is not None
    learner = component.fit(data, train, options, checkpoint=folder / f"{tag}.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownComponentsWarning)  # expected with few tasks
        labels, _ = component.label(learner, data, split.test)
    truth = {t: {v: data.ground_truth(t, v) for v in vids} for t, vids in split.test.items()}
    recall = crosstask_recall(truth, labels)
    vocabulary = learner.model_.vocabulary
    words = [
        w
        for t in split.test
        for s in data.task(t).steps
        for w in step_components(s, stem=vocabulary.stem)
    ]
    coverage = sum(w in vocabulary for w in words) / max(len(words), 1)
    ckpt = folder / f"{tag}.pt"
    if ckpt.is_file():
        ckpt.unlink()  # the point's result is cached; its checkpoint is no longer needed
    return {"mean": recall.mean, "per_task": recall.per_task, "word_coverage": coverage}
