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
synthetic ``reference_3d`` keypoints (metres), reported in centimetres.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from instructvid.demo.config import (
    DEMO_ALIGN_METHOD,
    DEMO_PCK_TOLERANCES_CM,
    DEMO_RECONSTRUCT,
    DEMO_SCENE,
)
from instructvid.types import ProgressCallback


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
