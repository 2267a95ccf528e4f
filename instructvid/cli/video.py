"""``instructvid video``: per-second features and cues from video files; probe a video."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from instructvid.cli.stop import fail, stop_cleanly
from instructvid.progress import console, progress_console

app = typer.Typer(
    help="Video files in: per-second features and cues (flow, hands) out; probe a video.",
    no_args_is_help=True,
)

_INPUTS = typer.Argument(..., help="Video files and/or folders of video files.")
_OUT = typer.Option(..., "--out", help="Output folder: <stem>.npy, manifest.json, problems.json.")
_FPS = typer.Option(1.0, "--fps", help="Rows per second of video (row k = time k / fps s).")
_WORKERS = typer.Option(
    None, "--workers", help="Videos at a time (local executor; default: one per core)."
)
_EXECUTOR = typer.Option("local", "--executor", help="local (process pool) | ray.")
_RAY = typer.Option(
    None, "--ray-address", help="Ray cluster to join (default: RAY_ADDRESS or a local instance)."
)
_DEVICE = typer.Option("auto", "--device", help="auto | cpu | cuda.")
_STRICT = typer.Option(
    False, "--strict", help="Exit 1 when any video failed (default: when all did)."
)


@contextmanager
def _bar(description: str) -> Iterator[tuple]:
    """A bar with videos done, seconds of video per second and the ETA; yields
    ``(progress(done, total), on_video(stem, entry))``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    start = time.perf_counter()
    seconds = [0.0]
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("videos · {task.fields[speed]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=progress_console,
    ) as bar:
        task = bar.add_task(description, total=None, speed="… s of video/s")

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def on_video(stem: str, entry: dict) -> None:
            seconds[0] += float(entry.get("duration") or 0.0)
            speed = seconds[0] / max(time.perf_counter() - start, 1e-9)
            bar.update(task, speed=f"{speed:.1f} s of video/s")

        yield progress, on_video


def _report(result, strict: bool) -> None:
    """Print the videos done, the problems and warnings; exit 1 as the contract says."""
    if result.videos:
        table = Table(title=f"{len(result.videos)} videos → {result.out}")
        for column in ("video", "rows", "duration (s)", "seconds"):
            table.add_column(column, justify="left" if column == "video" else "right")
        for stem, entry in sorted(result.videos.items()):
            label = stem + (" (truncated)" if entry.get("truncated") else "")
            table.add_row(
                escape(label),
                str(entry["rows"]),
                f"{entry['duration']:.1f}",
                f"{entry['seconds']:.1f}",
            )
        console.print(table)
    for _stem, text in sorted(result.warnings.items()):
        console.print(f"[yellow]warning:[/yellow] {escape(text)}", highlight=False, soft_wrap=True)
    for problem in result.problems:
        console.print(
            f"[red]failed:[/red] {escape(problem['video'])}: {escape(problem['reason'])}",
            highlight=False,
            soft_wrap=True,
        )
    if result.problems:
        console.print(f"{len(result.problems)} problems listed in {result.out / 'problems.json'}")
    if not result.videos or (strict and result.problems):
        raise typer.Exit(1)


@app.command("features")
def features(
    inputs: list[Path] = _INPUTS,
    out: Path = _OUT,
    extractor: str = typer.Option(
        "efficientnet-lite0",
        "--extractor",
        help="efficientnet-lite0 | tiny | milnce-s3d | i3d | resnet152 (need --weights) | "
        "crosstask (--weights DIR: I3D + ResNet-152 + VGGish files).",
    ),
    weights: Path | None = typer.Option(
        None,
        "--weights",
        help="Weights file of the extractor (default: the packaged ones); a folder for crosstask.",
    ),
    fps: float = _FPS,
    batch: int = typer.Option(32, "--batch", help="Frames per forward pass."),
    workers: int | None = _WORKERS,
    executor: str = _EXECUTOR,
    ray_address: str | None = _RAY,
    device: str = _DEVICE,
    strict: bool = _STRICT,
) -> None:
    """Write per-second features of each video: OUT/<stem>.npy float32 (T, D).

    Exit 0 when at least one video succeeded, 1 when none did (with --strict: when any failed);
    2 on a bad option or weights file. Re-running into the same OUT skips finished videos.
    """
    from instructvid.video.extract import extract_features

    with stop_cleanly("video features"), _bar("features") as (progress, on_video):
        result = extract_features(
            inputs, out, extractor=extractor, weights=weights, fps=fps, batch=batch,
            workers=workers, executor=executor, ray_address=ray_address, device=device,
            progress=progress, on_video=on_video,
        )  # fmt: skip
    _report(result, strict)


@app.command("cues")
def cues(
    inputs: list[Path] = _INPUTS,
    out: Path = _OUT,
    cue: str = typer.Option(..., "--cue", help="flow | hands."),
    weights: Path | None = typer.Option(
        None,
        "--weights",
        help="Model file of the cue (hands: palm_detection_full.tflite, see docs/video.md).",
    ),
    fps: float = _FPS,
    workers: int | None = _WORKERS,
    executor: str = _EXECUTOR,
    ray_address: str | None = _RAY,
    device: str = _DEVICE,
    strict: bool = _STRICT,
) -> None:
    """Write a per-second cue of each video: OUT/<stem>.npy, (T,) for flow, (T, 3) for hands
    (score, x, y in [0, 1]). Exit codes as for `video features`."""
    from instructvid.video.extract import extract_cues

    with stop_cleanly("video cues"), _bar(f"cue {cue}") as (progress, on_video):
        result = extract_cues(
            inputs, out, cue=cue, fps=fps, workers=workers, executor=executor,
            ray_address=ray_address, weights=weights, device=device, progress=progress,
            on_video=on_video,
        )  # fmt: skip
    _report(result, strict)


@app.command("probe")
def probe(
    video: Path = typer.Argument(..., help="A video file."),
    as_json: bool = typer.Option(False, "--json", help="Print the facts as JSON."),
) -> None:
    """Duration, frame rate, size, codec, rotation and streams of a video (from its headers)."""
    from instructvid.video.decode import VideoDecodeError
    from instructvid.video.stream import probe as run

    try:
        info = run(video)
    except VideoDecodeError as exc:
        raise fail(exc) from None
    if as_json:
        print(json.dumps(info.as_dict(), indent=2))
        return
    table = Table(title=escape(str(video)), show_header=False)
    table.add_column("", justify="left")
    table.add_column("", justify="left")
    duration = "unknown" if info.duration is None else f"{info.duration:.3f} s"
    rate = "unknown" if info.frame_rate is None else f"{info.frame_rate:.3f} fps"
    for key, value in [
        ("duration", duration),
        ("frame rate", rate),
        ("size", f"{info.width} × {info.height} (display)"),
        ("codec", info.codec),
        ("rotation", f"{info.rotation}°"),
    ]:
        table.add_row(key, value)
    for s in info.streams:
        extra = ", ".join(f"{k}={v}" for k, v in s.items() if k not in ("index", "type", "codec"))
        table.add_row(f"stream {s['index']}", escape(f"{s['type']} {s['codec']} {extra}".strip()))
    console.print(table)
