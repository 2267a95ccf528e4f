"""Capability 3 in the demo: a tiny rendered scene → per-video SfM → alignment graph → PCK.

Calls the public functions of :mod:`instructvid.scene` and :mod:`instructvid.synth.scene`
(``docs/scene.md``); each writes its files under ``OUT/scene`` and skips finished work:

* :func:`render` — ``render_scene``: ``DEMO_SCENE`` videos of one engine-bay scene (PNG folders,
  ``scene.json`` ground truth in metres, ``keypoints.json`` annotations in pixels);
* :func:`reconstruct_videos` — ``reconstruct``: one COLMAP model per video (folder input);
* :func:`align_models` — ``align``: pairwise similarities → ``graph.json``;
* :func:`transfer_keypoints` — ``transfer``: the source video's keypoints carried along the graph
  to every other video, PCK (fraction of keypoints within τ cm of eq. 5.3's ground truth) and
  overlay images.

The scene's world has an arbitrary scale per model; PCK uses each target's metric scale from the
synthetic ``reference_3d`` keypoints (metres), reported in centimetres. :func:`scene_stages`
runs the four as cached, timed stages (stages 8–11), or announces them as skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from instructvid.demo.config import (
    DEMO_ALIGN_METHOD,
    DEMO_PCK_TOLERANCES_CM,
    DEMO_RECONSTRUCT,
    DEMO_SCENE,
    DEMO_VERSION,
)
from instructvid.demo.stages import Stages
from instructvid.io.ids import safe_join
from instructvid.types import ProgressCallback

if TYPE_CHECKING:
    from rich.console import Console


def unavailable() -> str | None:
    """Why the 3D part cannot run here (a missing optional package, no headless OpenGL), or None."""
    try:
        import cv2  # noqa: F401
        import moderngl
        import networkx  # noqa: F401
        import pycolmap  # noqa: F401
    except ImportError as exc:
        return f"the 'scene' extra is not installed ({exc}; pip install -e '.[scene]')"
    try:  # headless rendering needs an EGL driver (Mesa's llvmpipe on a CPU-only machine)
        moderngl.create_standalone_context(backend="egl").release()
    except Exception as exc:
        return f"no headless OpenGL (EGL) context to render the synthetic scene: {exc}"
    return None


def render(scene_dir: Path, *, seed: int, progress: ProgressCallback) -> dict[str, Any]:
    """Render the demo's scene into ``scene_dir`` (skipped when ``scene.json`` exists).

    Returns:
        ``{"videos": [name, ...], "frames": frames per video, "size": [width, height] px,
        "seed": scene seed}``.
    """
    from instructvid.synth.scene import render_scene

    progress(0, 1)
    scene_json = render_scene(scene_dir, seed=seed, **DEMO_SCENE)
    progress(1, 1)
    scene = json.loads(scene_json.read_text())
    return {
        "videos": sorted(scene["videos"]),
        "frames": DEMO_SCENE["n_frames"],
        "size": [DEMO_SCENE["width"], DEMO_SCENE["height"]],
        "seed": seed,
    }


def reconstruct_videos(
    scene_dir: Path, rec_dir: Path, *, progress: ProgressCallback
) -> dict[str, Any]:
    """One SfM model per rendered video (its PNG folder), serially in this process.

    Returns:
        ``{"videos": {name: {"frames", "registered", "points", "models"}}}``: frames given,
        images registered in the kept models, their 3D points, the number of kept models.
    """
    from instructvid.scene.reconstruct import reconstruct
    from instructvid.scene.sfm import ReconstructConf

    inputs = sorted(p for p in (scene_dir / "videos").iterdir() if p.is_dir())
    report = reconstruct(
        inputs, rec_dir, ReconstructConf(**DEMO_RECONSTRUCT), workers=1, progress=progress
    )
    summaries = json.loads(report.read_text())["inputs"]
    return {
        "videos": {
            name: {
                "frames": int(s["frames"]),
                "registered": int(s["registered_images"]),
                "points": int(sum(m["points"] for m in s["models"])),
                "models": len(s["models"]),
            }
            for name, s in sorted(summaries.items())
            if name in {p.name for p in inputs}
        }
    }


def align_models(rec_dir: Path, graph_path: Path, *, progress: ProgressCallback) -> dict[str, Any]:
    """Align every pair of models and write the alignment graph to ``graph_path``.

    Returns:
        ``{"nodes": [model id, ...], "edges": [{"src", "dst", "inliers", "scale"}],
        "components": [[model id, ...], ...], "reference": model id}``.
    """
    from instructvid.scene.align import AlignConf, align

    path = align(rec_dir, graph_path, AlignConf(method=DEMO_ALIGN_METHOD), progress=progress)
    graph = json.loads(path.read_text())
    return {
        "nodes": [n["id"] for n in graph["nodes"]],
        "edges": [
            {"src": e["src"], "dst": e["dst"], "inliers": e["inliers"], "scale": e["scale"]}
            for e in graph["edges"]
        ],
        "components": [sorted(c) for c in graph["components"]],
        "reference": graph.get("reference"),
    }


def transfer_keypoints(
    scene_dir: Path, rec_dir: Path, graph_path: Path, out: Path, *, progress: ProgressCallback
) -> dict[str, Any]:
    """Transfer the source video's keypoints to the others and measure PCK.

    Returns:
        ``{"tolerances_cm": [...], "graph": [...], "direct": [...], "n_pairs", "overlay"}``:
        mean PCK over (source, target) pairs as fractions at each tolerance, along the graph's
        shortest path and by the direct edge alone; ``overlay`` is the file name of one image
        in ``out/overlays`` (the last target's), or None.
    """
    from instructvid.scene.keypoints import transfer

    result = transfer(
        rec_dir,
        graph_path,
        scene_dir / "keypoints.json",
        out,
        tolerances_cm=DEMO_PCK_TOLERANCES_CM,
        overlays_per_target=1,
        progress=progress,
    )
    overlays = sorted((out / "overlays").glob("*.png"))
    return {
        "tolerances_cm": list(result.tolerances_cm),
        "graph": [float(x) for x in result.curves["graph"]],
        "direct": [float(x) for x in result.curves["direct"]],
        "n_pairs": result.n_pairs,
        "overlay": overlays[-1].name if overlays else None,
    }


def scene_stages(stages: Stages, out: Path, seed: int, console: Console) -> dict[str, Any]:
    """Stages ``scene_render``, ``scene_reconstruct``, ``scene_align`` and ``scene_transfer``
    into ``out/scene`` (scene seed ``seed + 1``), or ``{"skipped": reason}``.

    When the 3D part cannot run here (:func:`unavailable`) every stage is announced as skipped;
    when one fails, the warning goes to ``console`` and the remaining ones are skipped (the
    other capabilities stand).

    Returns:
        ``{"render", "videos", "graph", "pck", "overlay"}``: what :func:`render`,
        :func:`reconstruct_videos` (its ``videos``), :func:`align_models` and
        :func:`transfer_keypoints` returned; ``overlay`` is the overlay image's path relative
        to ``out`` (or None).
    """
    labels = [
        "3D: render",
        "3D: reconstruct each video",
        "3D: alignment graph",
        "3D: keypoint transfer and PCK",
    ]
    reason = unavailable()
    if reason is not None:
        for label in labels:
            stages.skip(label, reason)
        return {"skipped": reason}
    root = out / "scene"
    render_dir, rec_dir, graph, transfer_dir = (
        root / "render",
        root / "rec",
        root / "graph.json",
        root / "transfer",
    )
    settings: dict[str, Any] = {
        "version": DEMO_VERSION,
        "seed": seed + 1,
        "scene": DEMO_SCENE,
        "reconstruct": DEMO_RECONSTRUCT,
    }
    done = 0
    try:
        rendered = stages.run(
            "scene_render",
            labels[0],
            settings,
            lambda update: render(render_dir, seed=seed + 1, progress=update),
            outputs=[render_dir / "scene.json"],
        )
        done += 1
        models = stages.run(
            "scene_reconstruct",
            labels[1],
            settings,
            lambda update: reconstruct_videos(render_dir, rec_dir, progress=update),
            outputs=[rec_dir / "reconstruct.json"],
        )
        done += 1
        settings = {**settings, "align": DEMO_ALIGN_METHOD}
        aligned = stages.run(
            "scene_align",
            labels[2],
            settings,
            lambda update: align_models(rec_dir, graph, progress=update),
            outputs=[graph],
        )
        done += 1
        settings = {**settings, "tolerances_cm": list(DEMO_PCK_TOLERANCES_CM)}
        pck = stages.run(
            "scene_transfer",
            labels[3],
            settings,
            lambda update: transfer_keypoints(
                render_dir, rec_dir, graph, transfer_dir, progress=update
            ),
            outputs=[transfer_dir / "pck.json"],
        )
    except Exception as exc:  # the report says what failed; the other capabilities stand
        reason = f"{labels[done]} failed: {type(exc).__name__}: {exc}"
        console.print(f"[yellow]warning:[/yellow] {reason}", highlight=False, soft_wrap=True)
        for label in labels[done + 1 :]:
            stages.skip(label, "an earlier 3D stage failed")
        return {"skipped": reason}
    overlay = pck.get("overlay")  # a file name in transfer_dir/overlays, relative to out:
    if overlay:
        overlay = safe_join(transfer_dir / "overlays", overlay).relative_to(out).as_posix()
    return {"render": rendered, **models, "graph": aligned, "pck": pck, "overlay": overlay}
