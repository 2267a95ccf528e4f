"""``instructvid scene ground | query | evaluate``: grounding narration in the common 3D model
(thesis §5.4–5.5.2). Registered on the ``scene`` app by :mod:`instructvid.cli.scene`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

#: The run folder of ``scene ground``, read by ``query`` and ``evaluate``.
GROUND_RUN_ARG = typer.Argument(..., help="Run folder of 'scene ground'.")
DEVICE_OPT = typer.Option("auto", "--device", help="auto | cpu | cuda.")


def ground(
    scenes: list[Path] = typer.Argument(
        ..., help="Scene folders of 'scene reconstruct' + 'scene align' (graph at OUT/graph.json)."
    ),
    subtitles: Path = typer.Option(
        ..., "--subtitles", help="Folder searched recursively for <video>.vtt / .srt."
    ),
    out: Path = typer.Option(..., "--out", help="Run folder (pairs, voxels, model, ground.json)."),
    points: str = typer.Option(
        "center", "--points", help="2D point per segment: center | hand | similarity."
    ),
    text: str = typer.Option(
        "minilm", "--text", help="Text encoder: minilm | tfidf | PATH (a BERT-family model folder)."
    ),
    freeze_encoder: bool = typer.Option(
        False, "--freeze-encoder", help="Train the heads only (embeddings cached once)."
    ),
    grid: int = typer.Option(20, "--grid", help="Voxels per axis of the model's box."),
    n_voxels: int = typer.Option(
        500, "--n-voxels", help="N_v: voxels kept (most training points)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the heads, the batch order and dropout."),
    graph: list[Path] | None = typer.Option(
        None, "--graph", help="Alignment graph of each scene, in order (default SCENE/graph.json)."
    ),
    hands: Path | None = typer.Option(
        None,
        "--hands",
        help="--points hand: folder of per-second hand cues DIR/<video>.npy (searched recursively).",
    ),
    similarity_model: Path | None = typer.Option(
        None, "--similarity-model", help="--points similarity: a TorchScript text–image model."
    ),
    window: int | None = typer.Option(
        None, "--window", help="Segments of W words (default: one subtitle cue per segment)."
    ),
    every_frame: bool = typer.Option(
        False, "--every-frame", help="Every registered frame inside a segment, not the nearest."
    ),
    radius: float = typer.Option(8.0, "--radius", help="r: pixels within which a point is hit."),
    epochs: int = typer.Option(8, "--epochs", help="Training epochs."),
    batch_size: int = typer.Option(64, "--batch-size", help="Pairs per step."),
    lr_head: float = typer.Option(1e-2, "--lr-head", help="Learning rate of the heads."),
    lr_encoder: float = typer.Option(5e-5, "--lr-encoder", help="Learning rate of the encoder."),
    videos_per_scene: int | None = typer.Option(
        None, "--videos-per-scene", help="Pairs from the first N videos of each scene only."
    ),
    validation: float = typer.Option(
        0.0, "--validation", help="Share of pairs held out to report accuracy per epoch."
    ),
    device: str = DEVICE_OPT,
    threads: int = typer.Option(2, "--threads", help="Torch threads."),
) -> None:
    """Ground narration into voxels of each scene's common model and train the model (eq. 5.2)."""
    from instructvid.runtime import limit_torch_threads, resolve_device
    from instructvid.scene.ground_model import TrainConf
    from instructvid.scene.ground_run import ground as run
    from instructvid.scene.grounding import GroundConf

    with stop_cleanly("scene ground"):
        conf = GroundConf(points=points, window=window, every_frame=every_frame, radius_px=radius)
        train = TrainConf(
            text=text,
            freeze_encoder=freeze_encoder,
            epochs=epochs,
            batch_size=batch_size,
            lr_head=lr_head,
            lr_encoder=lr_encoder,
            seed=seed,
        )
        dev = resolve_device(device)
        with limit_torch_threads(threads), progress_bar("train the grounding model") as update:
            path = run(
                list(scenes),
                subtitles,
                out,
                conf=conf,
                train=train,
                grid=grid,
                n_voxels=n_voxels,
                graphs=list(graph) if graph else None,
                hands=hands,
                similarity_model=similarity_model,
                videos_per_scene=videos_per_scene,
                validation_fraction=validation,
                device=dev,
                progress=update,
            )
    summary = json.loads(path.read_text())
    table = Table(title=f"Grounding pairs ({summary['method']})")
    cols = ("segments", "no_frame", "no_point", "no_hit", "outside_voxels", "kept")
    table.add_column("scene")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    for scene, c in summary["counts"].items():
        table.add_row(scene, *(str(c[k]) for k in cols))
    console.print(table)
    last = summary["log"][-1] if summary["log"] else {}
    console.print(
        f"trained {len(summary['log'])} epoch(s), last loss {last.get('loss', float('nan')):.4f}"
    )
    console.print(f"written: [bold]{path}[/bold]")


def query(
    run: Path = GROUND_RUN_ARG,
    text: str = typer.Argument(..., help='The instruction, e.g. "remove the dipstick".'),
    scene: str | None = typer.Option(None, "--scene", help="Only this scene (default: all)."),
    top: int = typer.Option(5, "--top", help="Voxels per scene."),
    video: str | None = typer.Option(
        None, "--video", help="Also give each centre in this video's model frame (needs --scene)."
    ),
    overlay: Path | None = typer.Option(
        None, "--overlay", help="Write heat-map overlays on --video's frames into this folder."
    ),
    frames: int = typer.Option(3, "--frames", help="Frames to overlay."),
    device: str = DEVICE_OPT,
) -> None:
    """Voxel centres (reference frame) and scores of an instruction: one JSON object per line."""
    from instructvid.runtime import resolve_device
    from instructvid.scene.ground_run import query as run_query

    with stop_cleanly("scene query"):
        if (video or overlay) and not (scene and video):
            raise ValueError("--video and --overlay need --scene and --video")
        rows = run_query(run, text, scene=scene, top=top, device=resolve_device(device))
        if video:
            written = _in_video(run, text, scene, video, rows, overlay, frames)
    for row in rows:
        typer.echo(json.dumps(row))
    if overlay:
        console.print(f"overlays: {', '.join(str(p) for p in written)}")


def _in_video(run, text, scene, video, rows, overlay, frames) -> list[Path]:
    from instructvid.scene.ground_overlay import overlay_frames, to_video_frame
    from instructvid.scene.ground_run import load_run, run_scene

    summary, model, voxels = load_run(run)
    models = run_scene(summary, scene)
    chosen = [m for m in models.models if m.video == video]
    if not chosen:
        raise ValueError(f"no aligned model of video {video!r} in scene {scene!r}")
    for row in rows:
        row["video"] = video
        row["centre_in_video"] = [
            round(float(x), 6) for x in to_video_frame(row["centre"], chosen[0])
        ]
    if not overlay:
        return []
    scores = model.scores([text], scene)[0]
    grid = voxels[scene]
    return overlay_frames(
        models, video, grid.centres(), scores, float(grid.size.max()), overlay, n_frames=frames
    )


def evaluate(
    run: Path = GROUND_RUN_ARG,
    objects: Path = typer.Option(
        ..., "--objects", help='JSON {"<scene>": {"<object>": [x, y, z]}}.'
    ),
    queries: Path = typer.Option(..., "--queries", help="CSV scene,object,query."),
    out: Path = typer.Option(..., "--out", help="Folder for pck.json, table.md and pck.png."),
    gt_cameras: Path | None = typer.Option(
        None,
        "--gt-cameras",
        help="Folder of <scene>/cameras.json: objects are in their metric world frame.",
    ),
    also: list[Path] | None = typer.Option(
        None, "--also", help="Other runs drawn on the same PCK plot (e.g. other point sources)."
    ),
    device: str = DEVICE_OPT,
) -> None:
    """PCK of the queries' groundings, 1–100 cm (Fig. 5.7), and per object at 30 cm (Table 5.1)."""
    from instructvid.runtime import resolve_device
    from instructvid.scene.ground_eval import evaluate as run_eval

    with stop_cleanly("scene evaluate"):
        path = run_eval(
            run,
            objects,
            queries,
            out,
            gt_cameras=gt_cameras,
            also=list(also) if also else None,
            device=resolve_device(device),
        )
    console.print((path.parent / "table.md").read_text(), markup=False, highlight=False)
    console.print(f"written: [bold]{path}[/bold], table.md, pck.png")


def register(app: typer.Typer) -> None:
    """Add the grounding commands to the ``scene`` app."""
    app.command("ground")(ground)
    app.command("query")(query)
    app.command("evaluate")(evaluate)
