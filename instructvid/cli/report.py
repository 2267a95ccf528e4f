"""``instructvid report RUN``: one self-contained report.html for any output folder."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvid.progress import console

__all__ = ["report"]


def report(
    run: Path = typer.Argument(
        ...,
        help="An output folder: RUN of `steps run` or `steps train`, a `steps benchmark` or "
        "`actionness evaluate` output, or a scene output.",
    ),
    annotations: Path | None = typer.Option(
        None,
        "--annotations",
        help="Ground-truth step CSVs <task>_<video>.csv (steps run: recall, hits and misses).",
    ),
    out: Path | None = typer.Option(None, "--out", help="The HTML file (default RUN/report.html)."),
) -> None:
    """Write a self-contained report.html (images embedded, nothing fetched) showing what fits
    the run: step timelines with frames, recall per task, AR@AN and normalised-time curves,
    point clouds, configuration, versions, timings and problems."""
    from instructvid.cli.stop import stop_cleanly
    from instructvid.report.runs import run_kind, write_run_report

    with stop_cleanly("report"):
        kind = run_kind(run)
        path = write_run_report(run, annotations=annotations, out=out)
    console.print(f"{kind} report: [bold]{path}[/bold]")
