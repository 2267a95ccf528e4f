"""Keypoint transfer along the alignment graph and its evaluation (thesis §5.3.5, §5.5.1).

Keypoint file (``K.json``)::

    {"source": "<input-name>",                       # the annotated source video
     "keypoints": ["battery_positive", ...],         # names (optional; else from annotations)
     "annotations": {"<input-name>": {"<image name>": {"<keypoint>": [x, y], ...}, ...}, ...},
     "reference_3d": {"<keypoint>": [x, y, z], ...}, # optional: known positions in metres
     "metres_per_unit": {"<input-name or model id>": s}}  # optional: known model scales

Pixel positions follow the COLMAP convention (top-left pixel centre at (0.5, 0.5)); images are
named as in the models (``0003.jpg``, ``t000123.450.jpg``). Only annotations on registered images
are used.

Pipeline: each keypoint annotated in >= 2 registered frames of a model is triangulated (linear
multi-view DLT on undistorted normalised coordinates, :func:`triangulate_dlt`) → K_s in the source
model, K_t in each target; K_s is transferred, K̂_t = S_{s→t} K_s (eq. 5.1), with S_{s→t} composed
along the graph's shortest path (``graph``) or the direct edge alone (``direct``); then projected
into every registered frame of the targets (P = K[R|t]).

Evaluation (eq. 5.3): S^GT_{s→t} = Umeyama(K_s, K_t) on the keypoints triangulated in both; the
error of keypoint k is ‖S_{s→t} K_s[k] − S^GT K_s[k]‖ in target units, converted to centimetres
with the target model's metric scale — ``metres_per_unit`` if given, else the scale of the
Umeyama fit of K_t onto ``reference_3d`` — and scored by PCK (:mod:`instructvid.metrics.pck`).
A pair without a path (or, for ``direct``, without an edge) scores all its keypoints as wrong.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_write_json, atomic_write_text
from instructvid.io.ids import safe_join
from instructvid.metrics.pck import keypoint_errors, mean_pck_curve, pck_curve
from instructvid.scene.graph import AlignmentGraph
from instructvid.scene.similarity import DegenerateError, Similarity, umeyama
from instructvid.types import PathLike, ProgressCallback

__all__ = [
    "TransferResult",
    "evaluate_transfer",
    "project_points",
    "transfer",
    "triangulate_dlt",
    "triangulate_keypoints",
]


def triangulate_dlt(cams_from_world: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Linear multi-view triangulation (DLT) of one point.

    Args:
        cams_from_world: (V, 3, 4) camera matrices [R | t] (or full projections P = K[R | t]).
        points: (V, 2) observations: normalised camera coordinates (x/z, y/z) for [R | t], or
            pixels for P.

    Returns:
        (3,) the point in world coordinates.

    Raises:
        ValueError: fewer than 2 views, or a degenerate configuration (point at infinity).
    """
    P = np.asarray(cams_from_world, np.float64)
    x = np.asarray(points, np.float64)
    if P.ndim != 3 or P.shape[1:] != (3, 4) or x.shape != (len(P), 2):
        raise ValueError(
            f"expected (V, 3, 4) cameras and (V, 2) points, got {P.shape} and {x.shape}"
        )
    if len(P) < 2:
        raise ValueError("triangulation needs at least 2 views")
    rows = []
    for Pi, (u, v) in zip(P, x, strict=True):
        rows.append(u * Pi[2] - Pi[0])
        rows.append(v * Pi[2] - Pi[1])
    a = np.asarray(rows)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    _, _, vt = np.linalg.svd(a)
    X = vt[-1]
    if abs(X[3]) < 1e-12:
        raise ValueError("triangulation gave a point at infinity (no baseline?)")
    return X[:3] / X[3]


def _camera(rec, image):
    return rec.cameras[image.camera_id]


def triangulate_keypoints(
    rec,
    annotations: dict[str, dict[str, Sequence[float]]],
    *,
    min_views: int = 2,
    min_angle_deg: float = 1.0,
) -> dict[str, np.ndarray]:
    """Triangulate annotated keypoints in a pycolmap reconstruction.

    Args:
        rec: ``pycolmap.Reconstruction``.
        annotations: image name → {keypoint → [x, y] pixels}.
        min_views: registered views needed per keypoint.
        min_angle_deg: largest angle between viewing rays needed (else skipped as ill-posed).

    Returns:
        keypoint → (3,) position in the model's frame.
    """
    by_name = {im.name: im for im in rec.images.values() if im.has_pose}
    obs: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for name, kps in annotations.items():
        image = by_name.get(name)
        if image is None:
            continue
        cam = _camera(rec, image)
        pose = image.cam_from_world().matrix()
        for kp, xy in kps.items():
            if xy is None:
                continue
            normed = np.asarray(cam.cam_from_img(np.asarray([xy], np.float64))).reshape(2)
            obs.setdefault(kp, []).append((pose, normed, np.asarray(image.projection_center())))
    out = {}
    for kp, views in obs.items():
        if len(views) < min_views:
            continue
        X = triangulate_dlt(np.stack([v[0] for v in views]), np.stack([v[1] for v in views]))
        rays = [(X - c) / max(np.linalg.norm(X - c), 1e-12) for _, _, c in views]
        max_angle = max(
            np.degrees(np.arccos(np.clip(r1 @ r2, -1, 1)))
            for i, r1 in enumerate(rays)
            for r2 in rays[i + 1 :]
        )
        # the point must lie in front of every camera that saw it
        if max_angle < min_angle_deg or any((p[:, :3] @ X + p[:, 3])[2] <= 0 for p, _, _ in views):
            continue
        out[kp] = X
    return out


def project_points(rec, image, points: np.ndarray) -> np.ndarray:
    """Project (N, 3) model points into a registered image: (N, 2) pixels, NaN if behind/outside."""
    cam = _camera(rec, image)
    pose = image.cam_from_world().matrix()
    pc = np.asarray(points, np.float64) @ pose[:, :3].T + pose[:, 3]
    uv = np.full((len(pc), 2), np.nan)
    front = pc[:, 2] > 1e-9
    if front.any():
        uv[front] = np.asarray(cam.img_from_cam(pc[front], check_cheirality=False)).reshape(-1, 2)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] <= cam.width) & (uv[:, 1] >= 0) & (uv[:, 1] <= cam.height)
    uv[~inside] = np.nan
    return uv


@dataclass
class TransferResult:
    """Outputs of :func:`transfer`: file paths and the mean PCK curves (per method)."""

    pck_json: Path
    pck_csv: Path
    tolerances_cm: list[float]
    curves: dict[str, np.ndarray]
    n_pairs: int
    errors: dict[str, list[np.ndarray]]  # method → per evaluated pair, (K,) errors in cm


def _model_for_input(models, input_name: str, annotations) -> tuple | None:
    """The model of ``input_name`` holding the most annotated registered images."""
    best, best_n = None, 0
    for ref, rec in models:
        if ref.input != input_name:
            continue
        names = {im.name for im in rec.images.values() if im.has_pose}
        n = len(names & set(annotations))
        if n > best_n:
            best, best_n = (ref, rec), n
    return best


def _metres_per_unit(kdata: dict, ref, K_t: dict[str, np.ndarray]) -> float | None:
    given = kdata.get("metres_per_unit", {})
    for key in (ref.id, ref.input):
        if key in given:
            return float(given[key])
    known = kdata.get("reference_3d")
    if known:
        common = [k for k in K_t if k in known]
        if len(common) >= 3:
            try:
                return umeyama(
                    np.stack([K_t[k] for k in common]),
                    np.asarray([known[k] for k in common], float),
                ).scale
            except DegenerateError:
                return None
    return None


class _Inconsistent(Exception):
    """A pair left out because its keypoint shapes disagree (``max_residual_cm``)."""


def evaluate_transfer(
    K_s: dict[str, np.ndarray],
    K_t: dict[str, np.ndarray],
    S: Similarity | None,
    metres_per_unit: float,
) -> tuple[np.ndarray, list[str]]:
    """Errors (cm) of the transferred source keypoints against the eq.-5.3 ground truth.

    Returns ((N,) errors in cm — inf when ``S`` is None — and the N keypoint names), over the
    keypoints triangulated in both models. Raises :class:`DegenerateError` with < 3 of them.
    """
    common = sorted(k for k in K_s if k in K_t)
    if len(common) < 3:
        raise DegenerateError(f"only {len(common)} keypoints triangulated in both videos; need 3")
    src = np.stack([K_s[k] for k in common])
    gt = umeyama(src, np.stack([K_t[k] for k in common]))  # eq. 5.3
    if S is None:
        return np.full(len(common), np.inf), common
    return keypoint_errors(S(src), gt(src)) * metres_per_unit * 100.0, common


def shape_residual_cm(
    K_s: dict[str, np.ndarray], K_t: dict[str, np.ndarray], metres_per_unit: float
) -> float:
    """RMS residual (cm) of the eq.-5.3 fit S^GT = U(K_s, K_t) over the keypoints of both.

    Small when the two triangulated keypoint sets have the same shape (relative distances and
    angles) up to a similarity — the thesis evaluates only such pairs (89 pairs, §5.5.1).
    Distances are in the target's metric scale (``metres_per_unit`` of the target model).
    Raises :class:`DegenerateError` with < 3 common keypoints.
    """
    common = sorted(k for k in K_s if k in K_t)
    if len(common) < 3:
        raise DegenerateError(f"only {len(common)} keypoints triangulated in both videos; need 3")
    src = np.stack([K_s[k] for k in common])
    dst = np.stack([K_t[k] for k in common])
    moved = umeyama(src, dst)(src)
    rms = float(np.sqrt(np.mean(np.sum((moved - dst) ** 2, axis=1))))
    return rms * metres_per_unit * 100.0


def _draw_overlay(
    image_path: Path, uv: np.ndarray, names: list[str], uv_gt: np.ndarray | None
) -> bytes:
    import cv2

    img = cv2.imread(str(image_path))
    if img is None:
        raise ValueError(f"cannot read image {image_path}")
    for k, name in enumerate(names):
        if uv_gt is not None and np.isfinite(uv_gt[k]).all():
            p = tuple(round(c - 0.5) for c in uv_gt[k])
            cv2.circle(img, p, 9, (0, 0, 255), 2, cv2.LINE_AA)
        if np.isfinite(uv[k]).all():
            p = tuple(round(c - 0.5) for c in uv[k])
            cv2.drawMarker(img, p, (0, 255, 0), cv2.MARKER_CROSS, 14, 2, cv2.LINE_AA)
            org, font = (p[0] + 6, p[1] - 6), cv2.FONT_HERSHEY_SIMPLEX
            for colour, thickness in (((0, 0, 0), 3), ((0, 255, 255), 1)):  # outline, then text
                cv2.putText(img, name, org, font, 0.4, colour, thickness, cv2.LINE_AA)
    _ok, buf = cv2.imencode(".png", img)
    return buf.tobytes()


def transfer(
    out: PathLike,
    graph_path: PathLike,
    keypoints_path: PathLike,
    out_dir: PathLike,
    *,
    tolerances_cm: Sequence[float] = tuple(range(1, 31)),
    source: str | None = None,
    overlays_per_target: int = 3,
    progress: ProgressCallback | None = None,
    max_residual_cm: float | None = None,
) -> TransferResult:
    """Transfer the source's keypoints to every model, evaluate by PCK, draw overlays.

    With ``max_residual_cm``, only the pairs whose keypoint shapes agree are evaluated: the RMS
    residual of the eq.-5.3 fit (:func:`shape_residual_cm`) must be at most this many cm (the
    thesis's 89 "consistent" pairs); the others are listed with ``"skipped"`` and their
    ``residual_cm``, and ``pck.json`` counts ``n_pairs_inconsistent``.

    Writes under ``out_dir``: ``keypoints_3d.json`` (triangulated keypoints per model),
    ``transferred/<model>.json`` (2D projections in every registered frame), ``overlays/*.png``,
    ``pck.json`` and ``pck.csv`` (mean PCK curve per method: ``graph`` and ``direct``).
    """
    import pycolmap

    from instructvid.scene.reconstruct import load_models

    out, out_dir = Path(out), Path(out_dir)
    kdata = json.loads(Path(keypoints_path).read_text())
    graph_json = json.loads(Path(graph_path).read_text())
    graph = AlignmentGraph.from_json(graph_json)
    annotations = kdata.get("annotations", {})
    source = source or kdata.get("source")
    if not source:
        raise ValueError("no source video: give 'source' in the keypoint file or --source")
    models = [(ref, pycolmap.Reconstruction(str(ref.path))) for ref in load_models(out)]
    src_model = _model_for_input(models, source, annotations.get(source, {}))
    if src_model is None:
        raise ValueError(f"source {source!r}: no model holds an annotated registered image")
    s_ref, s_rec = src_model
    K_s = triangulate_keypoints(s_rec, annotations[source])
    if len(K_s) < 1:
        raise ValueError(f"source {source!r}: no keypoint annotated in >= 2 registered frames")
    tri = {s_ref.id: {k: v.tolist() for k, v in K_s.items()}}
    per_pair: dict[str, dict] = {}
    errors = {"graph": [], "direct": []}
    names_s = sorted(K_s)
    targets = [m for m in models if m[0].id != s_ref.id]
    for done, (t_ref, t_rec) in enumerate(targets, start=1):
        S_graph = graph.similarity(s_ref.id, t_ref.id) if t_ref.id in graph.g else None
        S_direct = (
            graph.edge_similarity(s_ref.id, t_ref.id)
            if graph.g.has_edge(s_ref.id, t_ref.id)
            else None
        )
        # projections of the transferred keypoints in every registered frame of the target
        if S_graph is not None:
            X = S_graph(np.stack([K_s[k] for k in names_s]))
            proj = {}
            for im in sorted(t_rec.images.values(), key=lambda i: i.name):
                if im.has_pose:
                    uv = project_points(t_rec, im, X)
                    proj[im.name] = {
                        k: (None if np.isnan(p).any() else p.tolist())
                        for k, p in zip(names_s, uv, strict=True)
                    }
            atomic_write_json(
                safe_join(out_dir / "transferred", f"{t_ref.id.replace('/', '@')}.json"),
                {
                    "source": s_ref.id,
                    "target": t_ref.id,
                    "path": graph.path(s_ref.id, t_ref.id),
                    "keypoints_3d": {k: x.tolist() for k, x in zip(names_s, X, strict=True)},
                    "projections": proj,
                },
            )
        # evaluation against eq. 5.3 where the target has annotations
        ann_t = annotations.get(t_ref.input, {})
        K_t = triangulate_keypoints(t_rec, ann_t) if ann_t else {}
        if K_t:
            tri[t_ref.id] = {k: v.tolist() for k, v in K_t.items()}
        scale = _metres_per_unit(kdata, t_ref, K_t) if K_t else None
        gt = None
        record: dict = {"target": t_ref.id, "n_keypoints_target": len(K_t)}
        if K_t and scale is not None:
            try:
                residual = shape_residual_cm(K_s, K_t, scale)
                record["residual_cm"] = residual
                if max_residual_cm is not None and residual > max_residual_cm:
                    raise _Inconsistent(
                        f"keypoint shapes disagree: eq.-5.3 residual {residual:.2f} cm "
                        f"> {max_residual_cm:g} cm"
                    )
                e_graph, common = evaluate_transfer(K_s, K_t, S_graph, scale)
                e_direct, _ = evaluate_transfer(K_s, K_t, S_direct, scale)
                gt = umeyama(np.stack([K_s[k] for k in common]), np.stack([K_t[k] for k in common]))
                errors["graph"].append(e_graph)
                errors["direct"].append(e_direct)
                record.update(
                    {
                        "keypoints": common,
                        "metres_per_unit": scale,
                        "path": graph.path(s_ref.id, t_ref.id) if S_graph is not None else None,
                        "errors_cm": {"graph": e_graph.tolist(), "direct": e_direct.tolist()},
                        "pck": {
                            "graph": pck_curve(e_graph, tolerances_cm).tolist(),
                            "direct": pck_curve(e_direct, tolerances_cm).tolist(),
                        },
                    }
                )
            except (DegenerateError, _Inconsistent) as exc:
                record["skipped"] = str(exc)
                record["inconsistent"] = isinstance(exc, _Inconsistent)
        else:
            record["skipped"] = (
                "no metric scale" if K_t else "fewer than 2 annotated registered views per keypoint"
            )
        per_pair[f"{s_ref.id}->{t_ref.id}"] = record
        # overlays: annotated frames first, then evenly spread registered frames
        if S_graph is not None and overlays_per_target > 0:
            reg = sorted(im.name for im in t_rec.images.values() if im.has_pose)
            chosen = [n for n in reg if n in ann_t][:overlays_per_target]
            rest = [n for n in reg if n not in chosen]
            if len(chosen) < overlays_per_target and rest:
                idx = (
                    np.linspace(0, len(rest) - 1, overlays_per_target - len(chosen))
                    .round()
                    .astype(int)
                )
                chosen += [rest[i] for i in sorted(set(idx.tolist()))]
            by_name = {im.name: im for im in t_rec.images.values()}
            Xs = np.stack([K_s[k] for k in names_s])
            for n in chosen:
                im = by_name[n]
                uv = project_points(t_rec, im, S_graph(Xs))
                uv_gt = project_points(t_rec, im, gt(Xs)) if gt is not None else None
                png = _draw_overlay(t_ref.image_dir / n, uv, names_s, uv_gt)
                with atomic_open(
                    safe_join(
                        out_dir / "overlays", f"{t_ref.id.replace('/', '@')}__{Path(n).stem}.png"
                    ),
                    "wb",
                ) as fh:
                    fh.write(png)
        if progress:
            progress(done, len(targets))
    tol = [float(t) for t in tolerances_cm]
    curves = {m: mean_pck_curve(e, tol) for m, e in errors.items()}
    atomic_write_json(out_dir / "keypoints_3d.json", tri)
    n_pairs = len(errors["graph"])
    summary = {
        "metric": "pck_3d",
        "method": f"graph ({graph_json.get('method', '?')})",
        "tolerances_cm": tol,
        "mean": float(np.nanmean(curves["graph"])) if n_pairs else None,
        "mean_curve": {m: c.tolist() for m, c in curves.items()},
        "per_pair": per_pair,
        "n_videos": n_pairs,
        "max_residual_cm": max_residual_cm,
        "n_pairs_inconsistent": sum(bool(r.get("inconsistent")) for r in per_pair.values()),
        "source": s_ref.id,
        "graph": str(graph_path),
        "note": "mean = mean over tolerances of the graph method's mean-over-pairs PCK curve; "
        "PCK as fractions in [0, 1]; errors in cm against eq. 5.3",
    }
    pck_json = atomic_write_json(out_dir / "pck.json", summary)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tolerance_cm", "graph", "direct"])
    for k, t in enumerate(tol):
        w.writerow([t, *(f"{curves[m][k]:.4f}" for m in ("graph", "direct"))])
    pck_csv = atomic_write_text(out_dir / "pck.csv", buf.getvalue())
    return TransferResult(pck_json, pck_csv, tol, curves, n_pairs, errors)
