"""A grounding run (thesis §5.4): scenes + narration → pairs → voxels → a trained model, and queries.

:func:`ground` writes, under ``RUN``::

    pairs/<scene>.json              the pairs (text, video, frame, time, point in the reference frame)
    scenes/<scene>/voxels.json      the voxel grid and its kept cells (the classes)
    scenes/<scene>/points.npy       (N, 3) the common model (every aligned model's points, reference
                                    frame; at most 200,000, a seeded sample)
    scenes/<scene>/cameras.json     the registered frames' centres in the reference frame, and
                                    every model's similarity to the reference
    model/checkpoint.pt             the grounding model (eq. 5.2), written every epoch
    ground.json                     settings, per-scene counts, training log — written last

Re-running the same command resumes the training from its last finished epoch.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_save_npy, atomic_write_json
from instructvid.io.ids import safe_join
from instructvid.scene.ground_model import TrainConf, load_grounding_model, train_grounding
from instructvid.scene.grounding import (
    GroundConf,
    PairCounts,
    SceneModels,
    Segment,
    build_pairs,
    center_point,
    hand_points,
    load_scene,
    read_segments,
)
from instructvid.scene.voxels import VoxelGrid
from instructvid.types import PathLike, ProgressCallback

__all__ = ["find_subtitle_files", "ground", "load_run", "query", "run_scene"]

MAX_POINTS = 200_000


def find_subtitle_files(folder: PathLike) -> dict[str, Path]:
    """``{video: path}`` of the per-video subtitle files (.vtt, .srt) anywhere under ``folder``.

    Raises:
        ValueError: ``folder`` is missing, or two files name the same video (both named).
    """
    from instructvid.io.subtitles import SUBTITLE_SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--subtitles {folder}: not a folder")
    suffixes = sorted((s for s in SUBTITLE_SUFFIXES if s != ".json"), key=len, reverse=True)
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        name = path.name
        suffix = next((s for s in suffixes if name.lower().endswith(s)), None)
        if suffix is None or not path.is_file():
            continue
        video = name[: -len(suffix)]
        if video in found:
            raise ValueError(f"two subtitle files for video {video!r}: {found[video]} and {path}")
        found[video] = path
    return found


def _hands(folder: PathLike, videos: list[str]) -> dict[str, np.ndarray]:
    """The hand cues ``{video: (T, 3)}`` of ``videos``: ``DIR/<video>.npy``, else a unique
    ``<video>.npy`` anywhere under ``DIR``; videos without one get no hand pairs."""
    from instructvid.io.ids import safe_join

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--hands {folder}: not a folder of per-video hand cues (<video>.npy)")
    out = {}
    for v in videos:
        path = safe_join(folder, f"{v}.npy")
        if not path.is_file():
            found = sorted(p for p in folder.rglob("*.npy") if p.name == f"{v}.npy")
            if len(found) > 1:
                raise ValueError(f"two hand cues for video {v!r}: {found[0]} and {found[1]}")
            if not found:
                continue
            path = found[0]
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable .npy array ({exc})") from None
        if arr.ndim != 2 or arr.shape[1] != 3 or not np.isfinite(arr).all():
            raise ValueError(f"{path}: expected a (T, 3) array of score, x, y in [0, 1]")
        out[v] = arr.astype(np.float64)
    return out


def _point_source(conf: GroundConf, scene: SceneModels, hands_dir, similarity_model):
    if conf.points == "center":
        return center_point
    if conf.points == "hand":
        if hands_dir is None:
            raise ValueError(
                "--points hand needs the per-second hand cue of every video: give --hands DIR "
                "(DIR/<video>.npy, (T, 3) score, x, y)"
            )
        return hand_points(_hands(hands_dir, [m.video for m in scene.models]), conf.min_hand_score)
    if similarity_model is None:
        raise ValueError(
            "--points similarity needs a text–image similarity model and none is installed: give "
            "--similarity-model PATH (a TorchScript module (image (1, 3, H, W) in [0, 1], text) → "
            "(h, w) map, e.g. MIL-NCE S3D without its last pooling)"
        )
    from instructvid.scene.ground_similarity import similarity_points

    return similarity_points(similarity_model)


def ground(
    scene_dirs: list[PathLike],
    subtitles: PathLike,
    run: PathLike,
    *,
    conf: GroundConf | None = None,
    train: TrainConf | None = None,
    grid: int = 20,
    n_voxels: int = 500,
    graphs: list[PathLike] | None = None,
    hands: PathLike | None = None,
    similarity_model: PathLike | None = None,
    videos_per_scene: int | None = None,
    validation_fraction: float = 0.0,
    device: str = "cpu",
    progress: ProgressCallback | None = None,
) -> Path:
    """Make the pairs of every scene, the voxels, and train the model; returns ``RUN/ground.json``.

    Args:
        scene_dirs: ``scene reconstruct`` folders, each aligned (``OUT/graph.json`` unless
            ``graphs`` gives one graph per scene, in order).
        subtitles: a folder searched recursively for ``<video>.vtt`` / ``.srt``.
        videos_per_scene: use the pairs of only the first N videos (sorted by name) of each scene.
        validation_fraction: hold out this share of the pairs (seeded) and log the model's top-1
            accuracy on them per epoch (used to choose lr and epochs).
    """
    conf = conf or GroundConf()
    train = train or TrainConf()
    conf.check()
    train.check()
    run = Path(run)
    if graphs is not None and len(graphs) != len(scene_dirs):
        raise ValueError(f"--graph given {len(graphs)} time(s) for {len(scene_dirs)} scene(s)")
    scenes = [
        load_scene(d, None if graphs is None else graphs[i]) for i, d in enumerate(scene_dirs)
    ]
    names = [s.name for s in scenes]
    if len(set(names)) != len(names):
        raise ValueError(f"two scenes share a name: {names}; name the folders apart")
    files = find_subtitle_files(subtitles)
    counts: dict[str, dict] = {}
    data: list[tuple[str, str, int]] = []
    n_by_scene: dict[str, int] = {}
    for scene in scenes:
        videos = sorted({m.video for m in scene.models})
        if videos_per_scene is not None:
            videos = videos[:videos_per_scene]
        segments: dict[str, list[Segment]] = {
            v: read_segments(files[v], v, window=conf.window) for v in videos if v in files
        }
        missing = [v for v in videos if v not in files]
        used = replace(scene, models=[m for m in scene.models if m.video in videos])
        pairs, c = build_pairs(
            used, segments, _point_source(conf, scene, hands, similarity_model), conf
        )
        c.no_subtitles = len(missing)
        common = scene.merged_points()
        points = np.array([p.point for p in pairs]).reshape(-1, 3)
        voxels = VoxelGrid.fit(
            common, points if len(points) else common, grid=grid, n_voxels=n_voxels
        )
        classes = voxels.voxel_of(points)
        kept = int((classes >= 0).sum())
        counts[scene.name] = {
            **asdict(c),
            "outside_voxels": len(pairs) - kept,
            "kept": kept,
            "models": len(scene.models),
            "dropped_models": scene.dropped_models,
        }
        data.extend(
            (scene.name, p.text, int(k)) for p, k in zip(pairs, classes, strict=True) if k >= 0
        )
        n_by_scene[scene.name] = voxels.n_voxels
        _write_scene(run, scene, pairs, classes, voxels, common, train.seed)
    rng = np.random.default_rng(train.seed)
    validation: list[tuple[str, str, int]] = []
    if validation_fraction > 0:
        held = rng.random(len(data)) < validation_fraction
        validation = [d for d, h in zip(data, held, strict=True) if h]
        data = [d for d, h in zip(data, held, strict=True) if not h]
    total = PairCounts()
    for c in counts.values():
        total.add(PairCounts(**{k: c[k] for k in asdict(total)}))
    if not data:
        raise ValueError(
            f"no training pair in any scene ({asdict(total)}); check the subtitles and the models"
        )
    grids = {
        s: VoxelGrid.from_json(json.loads((run / "scenes" / s / "voxels.json").read_text()))
        for s in names
    }
    centres = {s: (g.centres(), float(g.size.max())) for s, g in grids.items()}
    _model, log = train_grounding(
        run / "model",
        data,
        n_by_scene,
        train,
        device=device,
        validation=validation,
        validation_centres=centres if validation else None,
        progress=progress,
    )
    return atomic_write_json(
        run / "ground.json",
        {
            "scenes": names,
            "scene_dirs": [str(Path(d).resolve()) for d in scene_dirs],
            "graphs": None if graphs is None else [str(Path(g).resolve()) for g in graphs],
            "n_voxels": n_by_scene,
            "counts": counts,
            "total": {
                **asdict(total),
                "training_pairs": len(data),
                "validation_pairs": len(validation),
            },
            "conf": asdict(conf),
            "train": asdict(train),
            "grid": grid,
            "videos_per_scene": videos_per_scene,
            "method": method_name(conf, train),
            "log": log,
        },
    )


def method_name(conf: GroundConf, train: TrainConf) -> str:
    text = train.text if train.text in ("minilm", "tfidf") else Path(train.text).name
    mode = "" if text == "tfidf" else (", frozen" if train.freeze_encoder else ", fine-tuned")
    return f"{conf.points} points, {text}{mode}"


def _write_scene(
    run: Path, scene: SceneModels, pairs, classes, voxels: VoxelGrid, common: np.ndarray, seed: int
) -> None:
    folder = safe_join(run / "scenes", scene.name)
    atomic_write_json(
        safe_join(run / "pairs", f"{scene.name}.json"),
        [{**asdict(p), "voxel": int(k)} for p, k in zip(pairs, classes, strict=True)],
    )
    atomic_write_json(folder / "voxels.json", voxels.to_json())
    if len(common) > MAX_POINTS:
        common = common[
            np.sort(np.random.default_rng(seed).choice(len(common), MAX_POINTS, replace=False))
        ]
    atomic_save_npy(folder / "points.npy", common.astype(np.float32))
    atomic_write_json(
        folder / "cameras.json",
        {
            "reference": scene.reference,
            "frames": [
                {
                    "video": m.video,
                    "model": m.model_id,
                    "time": f.time,
                    "centre": m.to_ref(-f.R.T @ f.t).tolist(),
                }
                for m in scene.models
                for f in m.frames
            ],
            "to_reference": {
                m.model_id: {"video": m.video, **m.to_ref.to_json()} for m in scene.models
            },
        },
    )


def load_run(run: PathLike, *, device: str = "cpu"):
    """(summary of ``ground.json``, the model, {scene: VoxelGrid}) of a finished run."""
    run = Path(run)
    path = run / "ground.json"
    if not path.is_file():
        raise ValueError(
            f"{run}: not a finished grounding run (no ground.json); run 'scene ground' first"
        )
    summary = json.loads(path.read_text(encoding="utf-8"))
    train = TrainConf(**summary["train"])
    model = load_grounding_model(run / "model", train, summary["n_voxels"], device=device)
    voxels = {
        s: VoxelGrid.from_json(
            json.loads((run / "scenes" / s / "voxels.json").read_text(encoding="utf-8"))
        )
        for s in summary["scenes"]
    }
    return summary, model, voxels


def query(
    run: PathLike, text: str, *, scene: str | None = None, top: int = 5, device: str = "cpu"
) -> list[dict]:
    """The ``top`` voxels of ``text`` in each scene (or in ``scene``): rank, voxel, centre
    (reference frame), score (softmax probability)."""
    summary, model, voxels = load_run(run, device=device)
    scenes = summary["scenes"] if scene is None else [scene]
    if scene is not None and scene not in summary["scenes"]:
        raise ValueError(f"no scene {scene!r} in {run}; scenes: {', '.join(summary['scenes'])}")
    out = []
    for s in scenes:
        probs = model.scores([text], s)[0]
        centres = voxels[s].centres()
        for rank, k in enumerate(np.argsort(-probs, kind="stable")[: max(1, top)], start=1):
            out.append(
                {
                    "scene": s,
                    "query": text,
                    "rank": rank,
                    "voxel": int(k),
                    "centre": [round(float(x), 6) for x in centres[k]],
                    "score": round(float(probs[k]), 6),
                }
            )
    return out


def run_scene(summary: dict, scene: str) -> SceneModels:
    """The aligned models of ``scene`` as the run used them (its folder and graph)."""
    if scene not in summary["scenes"]:
        raise ValueError(f"no scene {scene!r} in the run; scenes: {', '.join(summary['scenes'])}")
    i = summary["scenes"].index(scene)
    graphs = summary.get("graphs")
    return load_scene(summary["scene_dirs"][i], None if not graphs else graphs[i], name=scene)
