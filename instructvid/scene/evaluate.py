"""Experiments on top of the stages: the thesis's Fig. 5.6 comparison and synthetic ground truth.

:func:`compare_methods` runs alignment with each 2D-matching method and keypoint transfer on each
graph, and writes the mean PCK curves of the four methods of Fig. 5.6 — local features only,
dense flow only, local features + flow filter (all direct matching) and the alignment graph (on
local + flow) — as ``fig56.json``, ``fig56.csv`` and ``fig56.png``.

:func:`model_to_world` and :func:`edge_errors` compare models and graph edges with the
ground-truth cameras of a synthetic scene (``scene.json`` of :mod:`instructvid.synth.scene`).
:func:`similarity_errors` compares one estimated similarity (a graph edge) with a reference one
obtained any other way (e.g. from a depth sensor, docs/scene.md "Real photographs").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_save_figure, atomic_write_json, atomic_write_text
from instructvid.metrics.pck import mean_pck_curve
from instructvid.scene.similarity import Similarity, umeyama
from instructvid.types import PathLike

__all__ = [
    "FIG56_METHODS",
    "compare_methods",
    "edge_errors",
    "model_to_world",
    "plot_pck_curves",
    "similarity_errors",
]

#: label → (matching method, "direct" | "graph")
FIG56_METHODS: dict[str, tuple[str, str]] = {
    "local features only (direct)": ("local", "direct"),
    "dense flow only (direct)": ("flow", "direct"),
    "local + flow filter (direct)": ("local+flow", "direct"),
    "local + flow, alignment graph": ("local+flow", "graph"),
}


def model_to_world(rec, video: dict) -> Similarity:
    """x_world = S(x_model) of a model, by Umeyama on its camera centres vs the ground truth.

    Args:
        rec: ``pycolmap.Reconstruction`` of one video.
        video: that video's entry of a synthetic ``scene.json`` (``frames`` with ``name``, R, t).
    """
    gt = {f["name"]: f for f in video["frames"]}
    src, dst = [], []
    for im in rec.images.values():
        if im.has_pose and im.name in gt:
            R, t = np.asarray(gt[im.name]["R"]), np.asarray(gt[im.name]["t"])
            src.append(np.asarray(im.projection_center()))
            dst.append(-R.T @ t)
    return umeyama(np.asarray(src), np.asarray(dst))


def similarity_errors(
    estimate: Similarity,
    reference: Similarity,
    points: np.ndarray | None = None,
    metres_per_unit: float = 1.0,
) -> dict:
    """How far an estimated similarity x_dst = S(x_src) (a graph edge) is from a reference one.

    Args:
        estimate: the similarity to judge, e.g. ``Similarity.from_json(edge)``.
        reference: the reference similarity between the same two frames.
        points: optional (N, 3) points of the *source* frame (e.g. the source model's 3D points);
            each is mapped by both similarities and the distance between the two images is
            reported — the error that matters when transferring points along the edge.
        metres_per_unit: metres per unit of the *destination* frame (1 if it is metric).

    Returns:
        ``scale_ratio`` (estimate / reference), ``rotation_error_deg``,
        ``translation_error_cm`` (‖t_est − t_ref‖, destination frame) and, with ``points``,
        ``points``, ``moved_median_cm``, ``moved_p90_cm``, ``moved_max_cm``.
    """
    out = {
        "scale_ratio": estimate.scale / reference.scale,
        "rotation_error_deg": estimate.rotation_error_deg(reference),
        "translation_error_cm": float(np.linalg.norm(estimate.t - reference.t))
        * metres_per_unit
        * 100,
    }
    if points is not None:
        p = np.asarray(points, np.float64).reshape(-1, 3)
        if len(p) == 0:
            raise ValueError("similarity_errors: no point given")
        d = np.linalg.norm(estimate(p) - reference(p), axis=1) * metres_per_unit * 100
        out |= {
            "points": len(p),
            "moved_median_cm": float(np.median(d)),
            "moved_p90_cm": float(np.percentile(d, 90)),
            "moved_max_cm": float(d.max()),
        }
    return out


def edge_errors(graph_json: dict, scene_json: dict, out: PathLike) -> list[dict]:
    """For each edge: scale ratio (estimated / true), rotation error (deg), translation error (m)."""
    import pycolmap

    from instructvid.scene.reconstruct import load_models

    world = {}
    for ref in load_models(out):
        world[ref.id] = model_to_world(
            pycolmap.Reconstruction(str(ref.path)), scene_json["videos"][ref.input]
        )
    rows = []
    for e in graph_json["edges"]:
        S = Similarity.from_json(e)
        G = world[e["dst"]].inverse() @ world[e["src"]]
        # translation error measured in metres, in the world frame
        probe = world[e["src"]].inverse()(np.zeros((1, 3)))
        err_m = float(np.linalg.norm(world[e["dst"]](S(probe)) - world[e["dst"]](G(probe))))
        rows.append(
            {
                "src": e["src"],
                "dst": e["dst"],
                "inliers": e["inliers"],
                "scale_ratio": S.scale / G.scale,
                "rotation_error_deg": S.rotation_error_deg(G),
                "translation_error_m": err_m,
            }
        )
    return rows


def plot_pck_curves(
    curves: dict[str, Sequence[float]],
    tolerances: Sequence[float],
    path: PathLike,
    title: str = "Keypoint transfer (cf. thesis Fig. 5.6)",
) -> Path:
    """Mean PCK curves against the tolerance (cm), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=120)
    for label, c in curves.items():
        ax.plot(tolerances, np.asarray(c) * 100, marker="o", markersize=2.5, label=label)
    ax.set_xlabel("tolerance (cm)")
    ax.set_ylabel("mean PCK (%)")
    ax.set_ylim(0, 102)
    ax.set_xlim(min(tolerances), max(tolerances))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return atomic_save_figure(path, fig)


def compare_methods(
    out: PathLike,
    keypoints: PathLike,
    out_dir: PathLike,
    *,
    tolerances_cm: Sequence[float] = tuple(range(1, 31)),
    reference: str | None = None,
    source: str | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    max_residual_cm: float | None = None,
) -> Path:
    """Align with each matching method, transfer keypoints, write the Fig. 5.6 curves; returns fig56.json.

    ``max_residual_cm`` restricts the evaluation to the pairs whose triangulated keypoint shapes
    agree (RMS residual of the eq.-5.3 fit at most this many cm, as the thesis's 89 pairs);
    ``fig56.json`` gives ``n_pairs_kept`` and ``n_pairs_inconsistent``.
    """
    from dataclasses import replace

    from instructvid.scene.align import AlignConf, align

    if max_residual_cm is not None and not max_residual_cm >= 0:
        raise ValueError(f"max_residual_cm must be >= 0 cm, got {max_residual_cm}")
    from instructvid.scene.keypoints import transfer

    out, out_dir = Path(out), Path(out_dir)
    kdata = json.loads(Path(keypoints).read_text())
    if source == "all":
        sources = sorted(v for v, ann in kdata.get("annotations", {}).items() if ann)
    else:
        sources = [source or kdata.get("source")]
    graphs_paths: dict[str, Path] = {}
    errors: dict[str, dict[str, list]] = {}
    inconsistent = 0
    for method in ("local", "flow", "local+flow"):
        if progress:
            progress(f"align ({method})")
        graphs_paths[method] = align(
            out,
            out_dir / "graphs" / f"{method.replace('+', '_')}.json",
            replace(AlignConf(method=method), seed=seed),
            reference=reference,
        )
        errors[method] = {"direct": [], "graph": []}
        for src in sources:
            if progress:
                progress(f"transfer ({method}, source {src})")
            sub = method.replace("+", "_") + (f"/{src}" if len(sources) > 1 else "")
            res = transfer(
                out,
                graphs_paths[method],
                keypoints,
                out_dir / "transfer" / sub,
                tolerances_cm=tolerances_cm,
                source=src,
                max_residual_cm=max_residual_cm,
            )
            for kind in ("direct", "graph"):
                errors[method][kind].extend(res.errors[kind])
            if method == "local+flow":
                pck = json.loads(Path(res.pck_json).read_text())
                inconsistent += int(pck.get("n_pairs_inconsistent", 0))
    tol_list = [float(t) for t in tolerances_cm]
    curves, graphs = {}, {}
    for label, (method, kind) in FIG56_METHODS.items():
        curves[label] = mean_pck_curve(errors[method][kind], tol_list).tolist()
    n_pairs = len(errors["local+flow"]["graph"])
    for method, graph in graphs_paths.items():
        g = json.loads(Path(graph).read_text())
        graphs[method] = {
            "edges": len(g["edges"]),
            "components": g["components"],
            "attempts": len(g["attempts"]),
        }
    tol = [float(t) for t in tolerances_cm]
    at = {
        str(t): {label: curves[label][tol.index(t)] for label in curves}
        for t in (5.0, 10.0, 30.0)
        if t in tol
    }
    data = {
        "metric": "pck_3d",
        "tolerances_cm": tol,
        "curves": curves,
        "pck_at": at,
        "graphs": graphs,
        "n_videos": n_pairs,
        "n_pairs_kept": n_pairs,
        "n_pairs_inconsistent": inconsistent,
        "max_residual_cm": max_residual_cm,
        "sources": sources,
    }
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tolerance_cm", *curves])
    for k, t in enumerate(tol):
        w.writerow([t, *(f"{curves[label][k]:.4f}" for label in curves)])
    atomic_write_text(out_dir / "fig56.csv", buf.getvalue())
    plot_pck_curves(curves, tol, out_dir / "fig56.png")
    return atomic_write_json(out_dir / "fig56.json", data)
