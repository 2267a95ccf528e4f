"""``instructvid synth``: write synthetic worlds in the real file formats."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvid.cli.stop import stop_cleanly
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

    with stop_cleanly("synth crosstask"), progress_bar(f"synth crosstask ({size})") as update:
        path = generate_crosstask(out, size=size, seed=seed, dim=dim, progress=update)
    console.print(f"wrote [bold]{path}[/bold]")


@app.command("scene")
def scene(
    out: Path = typer.Option(
        ..., "--out", help="Output folder (videos/, scene.json, keypoints.json)."
    ),
    videos: int = typer.Option(6, "--videos", help="Number of videos."),
    seed: int = typer.Option(0, "--seed"),
    frames: int = typer.Option(30, "--frames", help="Frames per video."),
    width: int = typer.Option(640, "--width"),
    height: int = typer.Option(480, "--height"),
    mp4: bool = typer.Option(False, "--mp4/--no-mp4", help="Also write each video as an mp4."),
    drift: float = typer.Option(
        0.0,
        "--drift",
        help="Appearance drift across videos, 0..1 (far videos look more different).",
    ),
) -> None:
    """Render a synthetic engine-bay scene seen by several videos (ground truth in metres)."""
    from instructvid.synth.scene import render_scene

    with stop_cleanly("synth scene", also=(RuntimeError,)):
        with console.status("rendering"):
            path = render_scene(
                out,
                n_videos=videos,
                seed=seed,
                n_frames=frames,
                width=width,
                height=height,
                write_mp4=mp4,
                drift=drift,
            )
    console.print(
        f"written: [bold]{path}[/bold]; videos under {out / 'videos'}; keypoints {out / 'keypoints.json'}"
    )


@app.command("grounding")
def grounding(
    out: Path = typer.Option(..., "--out", help="Folder to write the grounding world into."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same world."),
    scenes: int = typer.Option(3, "--scenes", help="Car models (different layouts)."),
    videos: int = typer.Option(6, "--videos", help="Videos per scene."),
    recon: bool = typer.Option(
        True, "--recon/--no-recon", help="Also write oracle reconstructions (SCENE/recon/)."
    ),
    sfm_ready: bool = typer.Option(
        False,
        "--sfm-ready",
        help="Larger textured frames (256 x 192, solid texture) that 'scene reconstruct' can "
        "reconstruct; the default small frames are for the oracle reconstructions.",
    ),
) -> None:
    """Write a 3D grounding world: scenes with named parts, videos dwelling on them, noisy WebVTT
    narration, hand cues, ground-truth cameras, objects.json and held-out queries.csv."""
    from instructvid.synth.grounding import SFM_READY, generate_grounding

    extra = SFM_READY if sfm_ready else {}
    with stop_cleanly("synth grounding"), progress_bar("synth grounding") as update:
        path = generate_grounding(
            out,
            seed=seed,
            scenes=scenes,
            videos=videos,
            write_recon=recon,
            progress=update,
            **extra,
        )
    console.print(
        f"wrote [bold]{path.parent}[/bold] (objects.json, queries.csv, one folder per scene)"
    )


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
    """``synth actionness``: the same command as ``actionness synth``, so that every generator
    is found under ``instructvid synth``."""
    from instructvid.cli.actionness import app as actionness_cli

    app.command("actionness")(actionness_cli.synth)


_register_aliases()
