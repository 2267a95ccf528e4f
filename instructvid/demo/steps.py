"""Demo stage 7: step localization, the split protocol with and without actionness (eq. 4.4).

:func:`benchmark_methods` runs ``steps benchmark`` for ``DEMO_METHODS`` on the demo's world
(``DEMO_SPLITS`` splits, ``DEMO_N_TRAIN`` training videos per primary task) with the per-second
actionness of :mod:`instructvid.demo.actionness` (``<method>+actionness``, α chosen per split on
the validation videos) and writes its report; :func:`steps_stage` runs it as a cached, timed
stage into ``OUT/benchmark``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from instructvid.demo.config import DEMO_METHODS, DEMO_N_TRAIN, DEMO_SPLITS
from instructvid.demo.stages import Stages
from instructvid.types import ProgressCallback

__all__ = ["benchmark_methods", "steps_stage"]


def benchmark_methods(
    data_dir: Path, bench_dir: Path, scores: Path, *, seed: int, progress: ProgressCallback
) -> dict[str, Any]:
    """The split protocol of ``DEMO_METHODS`` plus actionness from ``scores/<vid>.npy``.

    Writes ``bench_dir/<method>.json``, ``results.md``, ``recall.png`` and ``methods.png``.

    Returns:
        ``{"summaries": {method: {"mean", "std", "map", "alpha", "base_method"}}, "results_md",
        "actionness_md"}``: recall as fractions (the keys a method has), the Table 3.3
        markdown and the eq. 4.4 section ("" when there is none).
    """
    from instructvid.io.crosstask import CrossTaskData
    from instructvid.progress import across_methods
    from instructvid.report.benchmark import write_benchmark_report
    from instructvid.steps.benchmark.actionness import ActionnessSettings, FolderActionness
    from instructvid.steps.benchmark.protocol import run_benchmark
    from instructvid.steps.benchmark.registry import default_registry

    data = CrossTaskData.open(data_dir)
    summaries = run_benchmark(
        data,
        bench_dir,
        methods=DEMO_METHODS,
        n_splits=DEMO_SPLITS,
        n_train=DEMO_N_TRAIN,
        seed=seed,
        progress=across_methods(progress, DEMO_METHODS),
        actionness=ActionnessSettings(FolderActionness(scores)),
        registry=default_registry(),
    )
    titles = {t: task.title for t, task in data.tasks.items()}
    report = write_benchmark_report(
        bench_dir, summaries, titles, sharing=False, actionness_section=True
    )
    return {
        "summaries": {
            m: {k: s[k] for k in ("mean", "std", "map", "alpha", "base_method") if k in s}
            for m, s in summaries.items()
        },
        "results_md": report.markdown,
        "actionness_md": report.actionness or "",
    }


def steps_stage(stages: Stages, out: Path, seed: int, axr: Mapping[str, Any]) -> dict[str, Any]:
    """Stage ``steps`` into ``out/benchmark`` on the world in ``out/data`` and the scores of
    :func:`~instructvid.demo.actionness.actionness_stages` (``axr``); returns
    :func:`benchmark_methods`'s result."""
    bench_dir = out / "benchmark"
    data_dir = out / "data"
    settings = {
        **axr["settings"],
        "splits": DEMO_SPLITS,
        "n_train": DEMO_N_TRAIN,
        "methods": list(DEMO_METHODS),
    }
    return stages.run(
        "steps",
        "step localization (split protocol + actionness)",
        settings,
        lambda update: benchmark_methods(
            data_dir, bench_dir, axr["scores"], seed=seed, progress=update
        ),
        outputs=[bench_dir / f"{m}.json" for m in DEMO_METHODS]
        + [bench_dir / "recall.png", bench_dir / "methods.png"],
    )
