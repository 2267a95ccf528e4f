"""``instructvid report RUN``: one self-contained ``report.html`` for any folder the project
writes, with what fits its kind (:func:`run_kind`, :func:`write_run_report`).

=====================  ==========================================  ===========================
kind                   recognised by                               module
=====================  ==========================================  ===========================
``steps run``          ``config.json`` of kind ``steps run``       :mod:`.steps_run`
``steps train``        ``config.json`` of kind ``steps train``     :mod:`.train`
``steps benchmark``    ``<method>.json`` summaries with per_task   :mod:`.benchmark`
``actionness``         ``<method>.json`` with metric frame_ap      :mod:`.actionness`
``scene``              ``*.ply``, ``reconstruct.json``, ``pck.json``, ``fig56.json``   :mod:`.scene`
=====================  ==========================================  ===========================
"""

from __future__ import annotations

from pathlib import Path

from instructvid.report.runs.page import read_json
from instructvid.types import PathLike

__all__ = ["KINDS", "run_kind", "write_run_report"]

KINDS = ("steps run", "steps train", "steps benchmark", "actionness evaluate", "scene")


def run_kind(run: PathLike) -> str:
    """The kind of an output folder (one of :data:`KINDS`).

    Raises:
        ValueError: not a folder, or none of the kinds (the message says what was looked for).
    """
    run = Path(run)
    if not run.is_dir():
        raise ValueError(f"{run}: not a folder")
    config = read_json(run / "config.json", {})
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind == "instructvid steps run":
        return "steps run"
    if kind == "instructvid steps train":
        return "steps train"
    metrics = set()
    for path in run.glob("*.json"):
        data = read_json(path, {})
        if isinstance(data, dict):
            if "per_task" in data and "mean" in data:
                metrics.add("recall")
            if data.get("metric") in ("frame_ap", "ar_an_auc"):
                metrics.add("actionness")
    if "actionness" in metrics:
        return "actionness evaluate"
    if "recall" in metrics:
        return "steps benchmark"
    if any(run.glob("*.ply")) or any(
        (run / n).is_file() for n in ("reconstruct.json", "pck.json", "fig56.json")
    ):
        return "scene"
    raise ValueError(
        f"{run}: not an output folder of instructvid (expected the RUN of `steps run` or "
        "`steps train`, a `steps benchmark` or `actionness evaluate` output, or a scene output)"
    )


def write_run_report(
    run: PathLike, *, annotations: PathLike | None = None, out: PathLike | None = None
) -> Path:
    """Write ``RUN/report.html`` (or ``out``) for the folder's kind; returns its path.

    ``annotations``: ground-truth step CSVs (``steps run``: recall and hits/misses)."""
    run = Path(run)
    kind = run_kind(run)
    target = Path(out) if out is not None else None
    if kind == "steps run":
        from instructvid.report.runs.steps_run import steps_run_report

        return steps_run_report(
            run, annotations=Path(annotations) if annotations else None, out=target
        )
    if kind == "steps train":
        from instructvid.report.runs.train import train_report

        return train_report(run, out=target)
    if kind == "steps benchmark":
        from instructvid.report.runs.benchmark import benchmark_report

        return benchmark_report(run, out=target)
    if kind == "actionness evaluate":
        from instructvid.report.runs.actionness import actionness_report

        return actionness_report(run, out=target)
    from instructvid.report.runs.scene import scene_report

    return scene_report(run, out=target)
