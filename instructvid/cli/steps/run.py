"""``instructvid steps run``: a folder of narrated videos in, step times and a report out.

The library does the work (:func:`instructvid.steps.pipeline.run_pipeline`: resumable stages);
this parses the options, turns ``--actionness`` into per-second arrays (an actionness model
scores the features, or a folder of arrays is read), prints one line per stage and the problems,
and ends with ``RUN/report.html``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import typer
from rich.markup import escape

from instructvid.cli.steps.actionness import actionness_source
from instructvid.cli.steps.options import DEVICE_OPT
from instructvid.progress import console, progress_bar

__all__ = ["run"]


def run(
    videos: Path = typer.Argument(..., help="Folder of video files named <video_id>.<ext>."),
    tasks: Path = typer.Option(..., "--tasks", help="tasks.txt: task cards (CrossTask format)."),
    video_list: Path = typer.Option(
        ..., "--videos", help="videos.csv: task_id,video_id,url (CrossTask format)."
    ),
    out: Path = typer.Option(..., "--out", help="RUN folder; running again resumes it."),
    subtitles: Path | None = typer.Option(
        None, "--subtitles", help="Folder of <video_id>.vtt / .srt narration (recommended)."
    ),
    extractor: str = typer.Option(
        "efficientnet-lite0", "--extractor", help="Feature extractor (efficientnet-lite0, tiny, …)."
    ),
    weights: Path | None = typer.Option(
        None, "--weights", help="Weights file of the extractor (when it needs one)."
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Apply this trained step model (a RUN of `steps run` or `steps train`) instead of "
        "training; tasks it never saw are placed through their shared step words.",
    ),
    actionness: Path | None = typer.Option(
        None,
        "--actionness",
        help="Per-second actionness for eq. 4.4: an actionness model (RUN folder or model.pt, "
        "scoring these videos' features) or a folder of <video_id>.npy arrays.",
    ),
    alpha: float = typer.Option(
        0.8, "--alpha", help="Weight of actionness in eq. 4.4, (1 − α) f + α S, in [0, 1]."
    ),
    text: str = typer.Option(
        "tfidf", "--text", help="Text representation of the narration matching (tfidf, minilm…)."
    ),
    executor: str = typer.Option(
        "local", "--executor", help="Where videos are decoded: local (process pool) or ray."
    ),
    ray_address: str | None = typer.Option(None, "--ray-address", help="Ray cluster address."),
    workers: int | None = typer.Option(None, "--workers", help="Worker processes (local)."),
    batch: int = typer.Option(32, "--batch", help="Frames per batch of the extractor."),
    seed: int = typer.Option(0, "--seed", help="Seed of training."),
    epochs_init: int | None = typer.Option(
        None, "--epochs-init", help="Training epochs of the initialisation phase."
    ),
    epochs: int | None = typer.Option(None, "--epochs", help="Training epochs (after init)."),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate of training."),
    device: str = DEVICE_OPT,
    annotations: Path | None = typer.Option(
        None, "--annotations", help="Ground-truth step CSVs, shown in the report with recall."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 when any video was skipped (default: only when none ran)."
    ),
) -> None:
    """From video files and subtitles to the time of every step: features → narration
    constraints → component model (trained on these videos, or --model) → optional actionness →
    RUN/steps/<task>_<video>.csv, RUN/steps.json, RUN/problems.json and RUN/report.html.
    Interrupt it any time; the same command resumes."""
    from instructvid.cli.stop import stop_cleanly
    from instructvid.steps.pipeline import NothingRanError, RunSettings, run_pipeline
    from instructvid.steps.pipeline.settings import DEFAULT_HYPER

    hyper = dict(DEFAULT_HYPER)
    if epochs_init is not None:
        hyper["epochs_init"] = epochs_init
    if epochs is not None:
        hyper["epochs"] = epochs
    if lr is not None:
        hyper["lr"] = lr
    with stop_cleanly("steps run"), warnings.catch_warnings():
        warnings.showwarning = _show_warning
        settings = RunSettings(
            extractor=extractor,
            weights=weights,
            text=text,
            model=model,
            actionness=str(actionness.resolve()) if actionness is not None else None,
            alpha=alpha,
            seed=seed,
            hyper=hyper,
            batch=batch,
            workers=workers,
            executor=executor,
            ray_address=ray_address,
            device=device,
        )
        source = actionness_source(actionness) if actionness is not None else None
        try:
            result = run_pipeline(
                videos,
                tasks,
                video_list,
                out,
                settings,
                subtitles=subtitles,
                actionness=source,
                progress=progress_bar,
                notify=lambda line: console.print(line, highlight=False),
            )
        except NothingRanError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None
        from instructvid.report.runs import write_run_report

        report = write_run_report(out, annotations=annotations)
    for p in result.problems:
        tag = "[yellow]skipped[/yellow]" if p.skipped else "[yellow]warning[/yellow]"
        console.print(f"{tag} {p.video} ({p.stage}): {escape(p.reason)}", highlight=False)
    console.print(
        f"step times of [bold]{result.n_videos}[/bold] videos in {out / 'steps'}; "
        f"{result.n_skipped} skipped; report: [bold]{report}[/bold]"
    )
    if strict and result.n_skipped:
        raise typer.Exit(1)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    console.print(f"[yellow]warning:[/yellow] {escape(str(message))}", highlight=False)
