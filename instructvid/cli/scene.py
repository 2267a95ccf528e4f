"""``instructvid scene``: 3D reconstruction of videos, alignment graph, keypoint transfer (ch. 5)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

app = typer.Typer(
    help="3D reconstruction of narrated videos: per-video SfM, alignment graph, keypoint transfer."
)

#: The OUT folder of ``scene reconstruct``, read by ``align``, ``transfer`` and ``compare``.
RECONSTRUCTION_ARG = typer.Argument(
    ..., metavar="OUT", help="Folder written by 'scene reconstruct'."
)
TOLERANCES_OPT = typer.Option("1:30", "--tolerances", help="cm: START:STOP[:STEP] or a comma list.")


@app.command("reconstruct")
def reconstruct(
    inputs: list[Path] = typer.Argument(
        ...,
        metavar="INPUTS...",
        help="Video files and/or folders of JPEG/PNG images; NAME=PATH names one (inputs "
        "that share a folder name are otherwise named from the parts of their paths that differ).",
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output folder (models/, features/, reconstruct.json)."
    ),
    frames: int | None = typer.Option(
        None,
        "--frames",
        help="Frames sampled per video (default 50); caps the images of a folder (default: all).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the frame sampling and of SfM."),
    sampling: str = typer.Option("random", "--sampling", help="random (thesis) | uniform | sharp."),
    extractor: str = typer.Option(
        "sift",
        "--extractor",
        help="sift | torch:WEIGHTS.pt2 (torch.export) | torch:WEIGHTS.pt (TorchScript)",
    ),
    max_features: int = typer.Option(2048, "--max-features", help="Local features per image."),
    single_camera: bool = typer.Option(
        False, "--single-camera", help="Folders: one camera for all images (always on for videos)."
    ),
    camera_model: str = typer.Option(
        "SIMPLE_RADIAL",
        "--camera-model",
        help="COLMAP camera model: SIMPLE_PINHOLE | PINHOLE | SIMPLE_RADIAL | RADIAL | OPENCV | …",
    ),
    camera_params: str | None = typer.Option(
        None,
        "--camera-params",
        help="Known intrinsics, COLMAP's parameter string for --camera-model in pixels of the "
        "full-size images, e.g. 'f,cx,cy' for SIMPLE_PINHOLE, 'f,cx,cy,k' for SIMPLE_RADIAL.",
    ),
    refine_intrinsics: bool | None = typer.Option(
        None,
        "--refine-intrinsics/--fix-intrinsics",
        help="Let bundle adjustment refine the intrinsics or keep them fixed "
        "(default: fixed with --camera-params, refined without).",
        show_default=False,
    ),
    min_model_images: int = typer.Option(5, "--min-model-images", help="Drop smaller models."),
    min_model_points: int = typer.Option(
        15, "--min-model-points", help="Drop models with fewer 3D points."
    ),
    init_min_tri_angle: float = typer.Option(
        16.0,
        "--init-min-tri-angle",
        help="Degrees between the first two views (lower for short baselines).",
    ),
    executor: str = typer.Option("local", "--executor", help="local (process pool) | ray."),
    workers: int | None = typer.Option(None, "--workers", help="Parallel inputs (local executor)."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="Ray cluster to join."),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Redo every input, also finished ones (needed to change the settings of an OUT).",
    ),
) -> None:
    """Reconstruct each input on its own (incremental SfM).

    Re-running skips inputs finished with the same settings; an input finished with other
    settings is an error unless --overwrite.
    """
    from instructvid.parallel import ItemError
    from instructvid.scene.reconstruct import reconstruct as run
    from instructvid.scene.sfm import ReconstructConf
    from instructvid.video.decode import VideoDecodeError

    conf = ReconstructConf(
        n_frames=frames or 50,
        n_images=frames,
        sampling=sampling,
        seed=seed,
        extractor=extractor,
        max_features=max_features,
        camera_model=camera_model,
        camera_params=camera_params or "",
        refine_intrinsics=refine_intrinsics,
        min_model_images=min_model_images,
        min_model_points=min_model_points,
        init_min_tri_angle=init_min_tri_angle,
        camera_mode="single" if single_camera else "auto",
    )
    user_errors = (ItemError, VideoDecodeError, FileNotFoundError, RuntimeError)
    with stop_cleanly("reconstruct", also=user_errors):
        conf.check()
        with progress_bar("reconstruct") as update:
            path = run(
                inputs,
                out,
                conf,
                executor=executor,
                workers=workers,
                progress=update,
                ray_address=ray_address,
                overwrite=overwrite,
            )
    report = json.loads(path.read_text())
    table = Table(title="Per-video reconstruction")
    for col in ("input", "frames", "models", "registered", "3D points", "camera", "seconds"):
        table.add_column(col, justify="right" if col not in ("input", "camera") else "left")
    for name, s in report["inputs"].items():
        cams = [c for m in s["models"][:1] for c in m.get("cameras", [])[:1]]
        camera = (
            f"{cams[0]['model']} " + ",".join(f"{x:.6g}" for x in cams[0]["params"]) if cams else ""
        )
        table.add_row(
            name,
            str(s["frames"]),
            str(len(s["models"])),
            str(s["registered_images"]),
            str(s["points3D"]),
            camera,
            f"{s['seconds']:.1f}",
        )
    console.print(table)
    console.print(f"written: [bold]{path}[/bold]")


@app.command("align")
def align(
    out: Path = RECONSTRUCTION_ARG,
    graph: Path = typer.Option(..., "--out", help="GRAPH.json to write (and GRAPH.ply beside it)."),
    reference: str | None = typer.Option(
        None, "--reference", help="Reference model id or input name."
    ),
    method: str = typer.Option(
        "local+flow", "--method", help="2D matching: local | flow | local+flow."
    ),
    n_pairs: int = typer.Option(10, "--pairs", help="N_M frame pairs per pair of models."),
    threshold: float = typer.Option(4.0, "--flow-threshold", help="t: flow consistency, pixels."),
    descriptor: str = typer.Option(
        "vlad", "--descriptor", help="vlad | torch:WEIGHTS.pt2 | torch:WEIGHTS.pt"
    ),
    min_inliers: int = typer.Option(15, "--min-inliers", help="Inliers needed for an edge."),
    seed: int = typer.Option(0, "--seed", help="Seed of RANSAC and of the VLAD codebook."),
) -> None:
    """Align the models pairwise (retrieval, matching, RANSAC-Umeyama) into an alignment graph."""
    from instructvid.scene.align import AlignConf
    from instructvid.scene.align import align as run

    conf = AlignConf(
        method=method,
        n_pairs=n_pairs,
        flow_threshold=threshold,
        global_descriptor=descriptor,
        min_inliers=min_inliers,
        seed=seed,
    )
    with stop_cleanly("align", also=(FileNotFoundError,)):
        with progress_bar("align model pairs") as update:
            path = run(out, graph, conf, reference=reference, progress=update)
    data = json.loads(path.read_text())
    table = Table(title=f"Alignment graph ({method}); x_dst = scale · R · x_src + t")
    for col in ("src", "dst", "inliers", "scale"):
        table.add_column(col, justify="right" if col in ("inliers", "scale") else "left")
    for e in data["edges"]:
        table.add_row(e["src"], e["dst"], str(e["inliers"]), f"{e['scale']:.4g}")
    console.print(table)
    comps = data["components"]
    console.print(
        f"{len(data['nodes'])} models, {len(data['edges'])} edges, {len(comps)} component(s); "
        f"reference {data['reference']}; point cloud {data['point_cloud']}"
    )
    console.print(f"written: [bold]{path}[/bold]")


@app.command("transfer")
def transfer(
    out: Path = RECONSTRUCTION_ARG,
    graph: Path = typer.Argument(..., metavar="GRAPH", help="GRAPH.json written by 'scene align'."),
    keypoints: Path = typer.Option(
        ..., "--keypoints", help="Keypoint annotations (K.json, see docs/scene.md)."
    ),
    out_dir: Path = typer.Option(
        ..., "--out", help="Output folder (pck.json, pck.csv, overlays/)."
    ),
    tolerances: str = TOLERANCES_OPT,
    source: str | None = typer.Option(
        None, "--source", help="Source input (default: from K.json)."
    ),
) -> None:
    """Transfer annotated keypoints along the graph; PCK in 3D (cm) against eq. 5.3; overlays."""
    from instructvid.metrics.pck import parse_tolerances
    from instructvid.scene.keypoints import transfer as run
    from instructvid.scene.similarity import DegenerateError

    with stop_cleanly("transfer", also=(FileNotFoundError, KeyError, DegenerateError)):
        tol = parse_tolerances(tolerances)
        with progress_bar("transfer keypoints") as update:
            result = run(
                out, graph, keypoints, out_dir, tolerances_cm=tol, source=source, progress=update
            )
    table = Table(title=f"Mean PCK over {result.n_pairs} video pairs (%)")
    table.add_column("tolerance (cm)", justify="right")
    table.add_column("graph", justify="right")
    table.add_column("direct", justify="right")
    for t in (x for x in (1.0, 2.0, 5.0, 8.0, 10.0, 20.0, 30.0) if x in result.tolerances_cm):
        k = result.tolerances_cm.index(t)
        table.add_row(f"{t:g}", *(f"{100 * result.curves[m][k]:.1f}" for m in ("graph", "direct")))
    console.print(table)
    console.print(f"written: [bold]{result.pck_json}[/bold], {result.pck_csv}")


@app.command("compare")
def compare(
    out: Path = RECONSTRUCTION_ARG,
    keypoints: Path = typer.Option(..., "--keypoints", help="Keypoint annotations (K.json)."),
    out_dir: Path = typer.Option(
        ..., "--out", help="Output folder (fig56.json/.csv/.png, graphs/, transfer/)."
    ),
    tolerances: str = TOLERANCES_OPT,
    seed: int = typer.Option(0, "--seed"),
    source: str = typer.Option(
        "all",
        "--source",
        help="Source input, or 'all': every annotated input in turn (all ordered pairs).",
    ),
    max_residual_cm: float | None = typer.Option(
        None,
        "--max-residual-cm",
        help="Evaluate only pairs whose keypoint shapes agree: RMS residual of the eq.-5.3 "
        "fit at most this many cm (the thesis's 89 consistent pairs).",
    ),
) -> None:
    """The thesis's Fig. 5.6: local only, flow only, local + flow (direct) and the alignment graph."""
    from instructvid.metrics.pck import parse_tolerances
    from instructvid.scene.evaluate import compare_methods

    with stop_cleanly("compare", also=(FileNotFoundError,)):
        path = compare_methods(
            out,
            keypoints,
            out_dir,
            tolerances_cm=parse_tolerances(tolerances),
            seed=seed,
            source=source,
            progress=lambda s: console.print(f"[bold]{s}[/bold]"),
            max_residual_cm=max_residual_cm,
        )
    data = json.loads(path.read_text())
    table = Table(title=f"Mean PCK (%) over {data['n_videos']} pairs (cf. thesis Fig. 5.6)")
    table.add_column("method")
    for t in data["pck_at"]:
        table.add_column(f"{float(t):g} cm", justify="right")
    for label in data["curves"]:
        values = [data["pck_at"][t][label] for t in data["pck_at"]]
        table.add_row(label, *("–" if v is None else f"{100 * v:.1f}" for v in values))
    console.print(table)
    if max_residual_cm is not None:
        console.print(
            f"pairs kept: {data['n_pairs_kept']} (eq.-5.3 residual <= {max_residual_cm:g} cm); "
            f"left out as inconsistent: {data['n_pairs_inconsistent']}"
        )
    console.print(f"written: [bold]{path}[/bold] and fig56.png")


def _register_grounding() -> None:
    """``scene ground``, ``scene query`` and ``scene evaluate`` (thesis §5.4)."""
    from instructvid.cli import scene_grounding

    scene_grounding.register(app)


_register_grounding()
