"""Cross-video alignment (thesis §5.3.2–5.3.4): retrieval → 2D matches → 3D-3D → RANSAC-Umeyama
→ alignment graph.

Stage function :func:`align` reads a reconstruction folder ``OUT`` (``instructvid scene
reconstruct``) and writes ``GRAPH.json`` (see :mod:`instructvid.scene.graph`), a merged point cloud
``GRAPH.ply`` in the reference model's frame, and per-pair results under
``OUT/align/<method>-<hash>/pairs/`` so that an interrupted run resumes where it stopped (a pair
is redone when either model was reconstructed again since: each record keeps the models' run ids).

For every pair of models (A, B) (models of different inputs, and the several models of one input
too): the N_M best frame pairs by global descriptor (:mod:`~instructvid.scene.retrieval`), 2D-2D
matches between each frame pair (:mod:`~instructvid.scene.matching`, method ``local``,
``flow`` or ``local+flow``), lifted to 3D-3D through the keypoints each model triangulated
(COLMAP's point2D → point3D), pooled over the frame pairs, and a RANSAC-Umeyama similarity
x_B = S(x_A) (:mod:`~instructvid.scene.similarity`). A pair with at least ``min_inliers`` inliers
becomes an edge.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.ids import safe_join
from instructvid.scene.graph import AlignmentGraph, write_ply
from instructvid.scene.reconstruct import ModelRef, load_models
from instructvid.scene.similarity import DegenerateError, Similarity, ransac_umeyama
from instructvid.types import PathLike, ProgressCallback

__all__ = ["AlignConf", "ModelData", "align", "align_pair", "confs", "load_model_data"]


@dataclass(frozen=True)
class AlignConf:
    """Configuration of cross-video alignment (keyword-only, typed defaults)."""

    method: str = "local+flow"  # "local", "flow" or "local+flow" (see scene.matching)
    n_pairs: int = 10  # N_M frame pairs per pair of models
    flow: str = "dis"  # "dis" or "farneback"
    flow_threshold: float = 4.0  # t, pixels
    ratio: float | None = None  # optional Lowe ratio on the cross-video mutual NN
    global_descriptor: str = (
        "vlad"  # or "torch:/path/weights.pt2" (torch.export) or ".pt" (TorchScript)
    )
    vlad_words: int = 32
    rel_threshold: float = 0.03  # RANSAC inlier distance / scene extent of the target model
    min_inliers: int = 15
    ransac_iterations: int = 3000
    seed: int = 0


confs: dict[str, AlignConf] = {
    "local": AlignConf(method="local"),
    "flow": AlignConf(method="flow"),
    "local+flow": AlignConf(method="local+flow"),
}


@dataclass
class ModelData:
    """What alignment needs of one model: per registered image, the point3D id of each keypoint."""

    ref: ModelRef
    names: list[str]  # registered images, sorted
    point_ids: dict[str, np.ndarray]  # name → (N,) int64, -1 where the keypoint has no 3D point
    xyz: dict[int, np.ndarray]  # point3D id → (3,)
    reconstruction: object  # pycolmap.Reconstruction

    def points_array(self) -> tuple[np.ndarray, np.ndarray]:
        """(P, 3) float64 positions and (P, 3) uint8 colours of all 3D points."""
        rec = self.reconstruction
        pts = [p.xyz for p in rec.points3D.values()]
        cols = [p.color for p in rec.points3D.values()]
        return np.asarray(pts, np.float64).reshape(-1, 3), np.asarray(cols, np.uint8).reshape(-1, 3)


def load_model_data(ref: ModelRef) -> ModelData:
    import pycolmap

    from instructvid.scene.sfm import quiet_pycolmap

    quiet_pycolmap()
    rec = pycolmap.Reconstruction(str(ref.path))
    invalid = pycolmap.INVALID_POINT3D_ID
    point_ids, names = {}, []
    for image in rec.images.values():
        if not image.has_pose:
            continue
        ids = np.array([p.point3D_id for p in image.points2D], dtype=np.uint64)
        point_ids[image.name] = np.where(ids == invalid, -1, ids.astype(np.int64))
        names.append(image.name)
    xyz = {int(pid): np.asarray(p.xyz, np.float64) for pid, p in rec.points3D.items()}
    return ModelData(ref, sorted(names), point_ids, xyz, rec)


class _Frames:
    """Lazy cache of grey frames and features of the models' registered images."""

    def __init__(self) -> None:
        self._gray: dict[tuple[str, str], np.ndarray] = {}
        self._feat: dict[str, object] = {}

    def gray(self, m: ModelData, name: str) -> np.ndarray:
        from instructvid.scene.features import read_gray

        key = (m.ref.input, name)
        if key not in self._gray:
            self._gray[key] = read_gray(m.ref.image_dir / name)
        return self._gray[key]

    def features(self, m: ModelData):
        from instructvid.scene.features import load_features

        if m.ref.input not in self._feat:
            self._feat[m.ref.input] = load_features(m.ref.features)
        return self._feat[m.ref.input]


def _global_descriptors(
    models: list[ModelData], frames: _Frames, conf: AlignConf
) -> dict[str, np.ndarray]:
    """Model id → (n_images, D) global descriptors of its registered images."""
    out: dict[str, np.ndarray] = {}
    if conf.global_descriptor == "vlad":
        from instructvid.scene.retrieval import Vlad

        sets = [frames.features(m).descriptors[n] for m in models for n in m.names]
        vl = Vlad(n_words=conf.vlad_words, seed=conf.seed).fit(sets)
        for m in models:
            f = frames.features(m)
            out[m.ref.id] = np.stack([vl.describe(f.descriptors[n]) for n in m.names])
        return out
    if conf.global_descriptor.startswith(("torchscript:", "torch:")):
        import cv2

        from instructvid.scene.retrieval import TorchScriptGlobal

        model = TorchScriptGlobal(conf.global_descriptor.split(":", 1)[1])
        for m in models:
            rgbs = [
                cv2.cvtColor(cv2.imread(str(m.ref.image_dir / n)), cv2.COLOR_BGR2RGB)
                for n in m.names
            ]
            out[m.ref.id] = np.stack([model.describe_image(x) for x in rgbs])
        return out
    raise ValueError(
        f"unknown global descriptor {conf.global_descriptor!r}; use 'vlad' or 'torch:PATH'"
    )


def correspondences_3d(
    a: ModelData,
    b: ModelData,
    frame_pairs: list[tuple[int, int, float]],
    frames: _Frames,
    conf: AlignConf,
) -> tuple[np.ndarray, np.ndarray]:
    """3D-3D correspondences of models a and b pooled over frame pairs: (M, 2) point3D ids.

    Also returns per-pair counts of 2D matches (for the record).
    """
    from instructvid.scene.matching import match_frames

    fa, fb = frames.features(a), frames.features(b)
    pairs, counts = [], []
    for i, j, _ in frame_pairs:
        na, nb = a.names[i], b.names[j]
        ids_a, ids_b = a.point_ids[na], b.point_ids[nb]
        need_gray = conf.method != "local"
        m = match_frames(
            fa.keypoints[na],
            fa.descriptors[na],
            fb.keypoints[nb],
            fb.descriptors[nb],
            gray_a=frames.gray(a, na) if need_gray else None,
            gray_b=frames.gray(b, nb) if need_gray else None,
            method=conf.method,
            threshold=conf.flow_threshold,
            flow=conf.flow,
            ratio=conf.ratio,
            candidates_a=np.flatnonzero(ids_a >= 0),
        )
        counts.append(len(m))
        if len(m):
            pa, pb = ids_a[m[:, 0]], ids_b[m[:, 1]]
            ok = (pa >= 0) & (pb >= 0)
            pairs.append(np.stack([pa[ok], pb[ok]], axis=1))
    if not pairs:
        return np.zeros((0, 2), np.int64), np.asarray(counts)
    return np.unique(np.concatenate(pairs), axis=0), np.asarray(counts)


def align_pair(
    a: ModelData,
    b: ModelData,
    desc_a: np.ndarray,
    desc_b: np.ndarray,
    frames: _Frames,
    conf: AlignConf,
) -> dict:
    """Try to align model a to model b; a JSON-able record with ``ok`` and, if so, S (x_b = S(x_a))."""
    from instructvid.scene.retrieval import top_pairs

    fp = top_pairs(desc_a, desc_b, conf.n_pairs)
    corr, counts = correspondences_3d(a, b, fp, frames, conf)
    record = {
        "src": a.ref.id,
        "dst": b.ref.id,
        "frame_pairs": [[a.names[i], b.names[j], s] for i, j, s in fp],
        "matches_2d": int(counts.sum()),
        "correspondences_3d": len(corr),
    }
    if len(corr) == 0:
        return {**record, "ok": False, "error": "no 3D-3D correspondence"}
    src = np.stack([a.xyz[int(p)] for p in corr[:, 0]])
    dst = np.stack([b.xyz[int(p)] for p in corr[:, 1]])
    try:
        fit = ransac_umeyama(
            src,
            dst,
            rel_threshold=conf.rel_threshold,
            min_inliers=conf.min_inliers,
            max_iterations=conf.ransac_iterations,
            seed=conf.seed,
        )
    except DegenerateError as exc:
        return {**record, "ok": False, "error": str(exc)}
    return {
        **record,
        "ok": True,
        **fit.similarity.to_json(),
        "inliers": fit.n_inliers,
        "threshold": fit.threshold,
    }


def _conf_tag(conf: AlignConf) -> str:
    digest = hashlib.sha1(json.dumps(asdict(conf), sort_keys=True).encode()).hexdigest()[:8]
    return f"{conf.method.replace('+', '_')}-{digest}"


def _resolve_reference(
    graph: AlignmentGraph, models: list[ModelData], reference: str | None
) -> str:
    ids = [m.ref.id for m in models]
    if reference is None:
        biggest = graph.components()[0]
        return max(biggest, key=lambda n: next(m.ref.n_images for m in models if m.ref.id == n))
    if reference in ids:
        return reference
    candidates = [i for i in ids if i.split("/")[0] == reference]
    if not candidates:
        raise ValueError(
            f"reference {reference!r} is neither a model id nor an input name; models: {ids}"
        )
    return candidates[0]


def align(
    out: PathLike,
    graph_path: PathLike,
    conf: AlignConf = AlignConf(),
    *,
    reference: str | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Align every pair of models of ``out`` and write the alignment graph; returns its path."""
    out, graph_path = Path(out), Path(graph_path)
    refs = load_models(out)
    if len(refs) < 1:
        raise ValueError(f"no model in {out}/models")
    models = [load_model_data(r) for r in refs]
    frames = _Frames()
    cache = out / "align" / _conf_tag(conf) / "pairs"
    pairs = [(i, j) for i in range(len(models)) for j in range(i + 1, len(models))]
    graph = AlignmentGraph()
    for m in models:
        graph.add_node(m.ref.id, images=m.ref.n_images, points=m.ref.n_points)
    descriptors = None
    records = []
    if progress:
        progress(0, len(pairs))
    for k, (i, j) in enumerate(pairs):
        a, b = models[i], models[j]
        path = safe_join(cache, f"{a.ref.id.replace('/', '@')}--{b.ref.id.replace('/', '@')}.json")
        runs = {a.ref.id: a.ref.run_id, b.ref.id: b.ref.run_id}  # models redone: stale record
        record = json.loads(path.read_text()) if path.exists() else None
        if record is None or record.get("runs", dict.fromkeys(runs, "")) != runs:
            if descriptors is None:
                descriptors = _global_descriptors(models, frames, conf)
            record = align_pair(a, b, descriptors[a.ref.id], descriptors[b.ref.id], frames, conf)
            record["runs"] = runs
            atomic_write_json(path, record)
        records.append(record)
        if record["ok"]:
            graph.add_edge(
                record["src"],
                record["dst"],
                Similarity.from_json(record),
                record["inliers"],
                correspondences_3d=record["correspondences_3d"],
            )
        if progress:
            progress(k + 1, len(pairs))
    ref_id = _resolve_reference(graph, models, reference)
    data = graph.to_json(reference=ref_id)
    data["method"] = conf.method
    data["conf"] = asdict(conf)
    data["reconstruction"] = str(out.resolve())
    data["attempts"] = [
        {k: v for k, v in r.items() if k not in ("R", "t", "scale", "frame_pairs", "runs")}
        for r in records
    ]
    # merged point cloud in the reference frame
    to_ref = graph.to_reference(ref_id)
    pts, cols = [], []
    for m in models:
        if m.ref.id in to_ref:
            p, c = m.points_array()
            pts.append(to_ref[m.ref.id][0](p))
            cols.append(c)
    ply = write_ply(graph_path.with_suffix(".ply"), np.concatenate(pts), np.concatenate(cols))
    data["point_cloud"] = str(ply)
    return atomic_write_json(graph_path, data)
