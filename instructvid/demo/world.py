"""Demo stages 1–3: the synthetic CrossTask world, its check and its Table 3.2 statistics.

* **world** (:func:`generate_world`): a ``DEMO_SIZE`` world with ``DEMO_DIM``-d features in
  ``OUT/data`` (``synth crosstask``; resumes on its own);
* **check** (:func:`check_world`): ``steps check`` on it; an error stops the demo;
* **stats** (:func:`world_statistics`): the Table 3.2 markdown of ``steps stats``.

:func:`world_stages` runs the three as cached, timed stages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructvid.demo.config import DEMO_DIM, DEMO_SIZE, DEMO_VERSION
from instructvid.demo.stages import Stages
from instructvid.types import ProgressCallback

__all__ = ["check_world", "generate_world", "world_stages", "world_statistics"]


def generate_world(data_dir: Path, *, seed: int, progress: ProgressCallback) -> dict[str, Any]:
    """Write (or finish) the demo's CrossTask world into ``data_dir``.

    Returns:
        ``{"primary", "related", "videos"}``: the numbers of primary and related tasks and of
        videos in ``videos.csv`` (all tasks).
    """
    from instructvid.io.crosstask import CrossTaskData
    from instructvid.synth.crosstask.generate import generate_crosstask

    generate_crosstask(data_dir, size=DEMO_SIZE, seed=seed, dim=DEMO_DIM, progress=progress)
    data = CrossTaskData.open(data_dir)
    return {
        "primary": len(data.primary),
        "related": len(data.related),
        "videos": sum(len(v) for v in data.videos.values()),
    }


def check_world(data_dir: Path, *, progress: ProgressCallback) -> dict[str, Any]:
    """``steps check`` of the world: ``{"errors": 0, "warnings": n}``.

    Raises:
        RuntimeError: the world has an error (listed in the message).
    """
    from instructvid.io.crosstask_check import check_dataset

    problems = check_dataset(data_dir, progress=progress)
    errors = [str(p) for p in problems if p.severity == "error"]
    if errors:
        raise RuntimeError("the synthetic world failed its own check:\n" + "\n".join(errors))
    return {"errors": 0, "warnings": len(problems)}


def world_statistics(data_dir: Path, *, progress: ProgressCallback) -> dict[str, Any]:
    """``{"markdown": the Table 3.2 statistics of the world's primary tasks}``."""
    from instructvid.io.crosstask import CrossTaskData
    from instructvid.report.tables import stats_markdown
    from instructvid.steps.stats import dataset_statistics

    data = CrossTaskData.open(data_dir)
    return {"markdown": stats_markdown(dataset_statistics(data, progress=progress))}


def world_stages(stages: Stages, out: Path, seed: int) -> dict[str, Any]:
    """Stages ``world``, ``check`` and ``stats`` into ``out/data``.

    Returns:
        ``{"dir", "settings", "primary", "related", "videos", "errors", "warnings", "stats_md"}``;
        ``settings`` are the world's (the later stages extend them).
    """
    from instructvid.synth.crosstask.generate import WORLD_FILE

    data_dir = out / "data"
    settings = {"version": DEMO_VERSION, "size": DEMO_SIZE, "dim": DEMO_DIM, "seed": seed}
    counts = stages.run(
        "world",
        f"synthetic world ({DEMO_SIZE}, {DEMO_DIM}-d)",
        settings,
        lambda update: generate_world(data_dir, seed=seed, progress=update),
        outputs=[data_dir / WORLD_FILE],
    )
    checked = stages.run(
        "check",
        "checking the dataset",
        settings,
        lambda update: check_world(data_dir, progress=update),
    )
    stats = stages.run(
        "stats",
        "dataset statistics",
        settings,
        lambda update: world_statistics(data_dir, progress=update),
    )
    return {
        "dir": data_dir,
        "settings": settings,
        **counts,
        **checked,
        "stats_md": stats["markdown"],
    }
