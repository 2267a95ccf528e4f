"""``instructvid synth``: write synthetic worlds in the real file formats."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvid.progress import console, progress_bar

app = typer.Typer(help="Generate synthetic datasets in the real file formats (offline).")


@app.command("crosstask")
def crosstask(
    out: Path = typer.Option(..., "--out", help="Folder to write the DATA layout into."),
    size: str = typer.Option(
        "tiny",
        "--size",
        help="tiny (seconds), small, medium (18+65 tasks, 256-d) or full (4,700 videos).",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same bytes."),
    dim: int | None = typer.Option(
        None, "--dim", help="Feature dimension D (default per size; the real release has 3200)."
    ),
) -> None:
    """Write a complete CrossTask-layout world: task cards, video lists, annotations,
    narration constraints, WebVTT subtitles and per-second features. Re-running resumes."""
    from instructvid.synth.crosstask.generate import generate_crosstask

    try:
        with progress_bar(f"synth crosstask ({size})") as update:
            path = generate_crosstask(out, size=size, seed=seed, dim=dim, progress=update)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"wrote [bold]{path}[/bold]")


@app.command("videos")
def videos(
    out: Path = typer.Option(..., "--out", help="Folder to write videos/, subtitles/, lists into."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same files."),
    tasks: int = typer.Option(3, "--tasks", help="Number of tasks (they share step words)."),
    videos_per_task: int = typer.Option(
        10,
        "--videos-per-task",
        help="Videos per task (one corrupt, one empty, one without subtitles among them all).",
    ),
    size: int = typer.Option(96, "--size", help="Frame width and height in pixels (even)."),
    fps: float = typer.Option(4.0, "--fps", help="Frames per second of the MP4s."),
) -> None:
    """Write short narrated H.264 videos of tasks whose steps are drawn from their words, with
    WebVTT subtitles, tasks.txt, videos.csv and ground-truth annotations. Re-running resumes."""
    from instructvid.cli.stop import stop_cleanly
    from instructvid.synth.videos import VideoSettings, generate_videos

    with stop_cleanly("synth videos"):
        settings = VideoSettings(
            seed=seed, tasks=tasks, videos_per_task=videos_per_task, size=size, fps=fps
        )
        with progress_bar("synth videos") as update:
            summary = generate_videos(out, settings, progress=update)
    bad = ", ".join(f"{v} ({k})" for v, k in summary["bad"].items())
    console.print(
        f"wrote [bold]{len(summary['videos'])}[/bold] videos to [bold]{out}[/bold]; {bad}"
    )


def _register_aliases() -> None:
    """``synth scene`` and ``synth actionness``: the same commands as ``scene synth`` and
    ``actionness synth``, so that every generator is found under ``instructvid synth``."""
    from instructvid.cli import scene as scene_cli
    from instructvid.cli.actionness import app as actionness_cli

    app.command("scene")(scene_cli.synth)
    app.command("actionness")(actionness_cli.synth)


_register_aliases()
