"""Per-video reconstruction (thesis §5.3.1): N frames → local features → exhaustive mutual-NN
matching → incremental SfM (pycolmap) → one or more COLMAP models.

Stage function (hloc style): :func:`reconstruct` writes, for every input, under ``out``::

    frames/<name>/t000123.450.jpg     the sampled frames of a video input (a folder input's images
                                      are read where they are)
    features/<name>.npz               local features of every used frame (see scene.features)
    work/<name>/database.db           the COLMAP database (keypoints, matches, two-view geometry)
    models/<name>/<k>/                COLMAP models (cameras.bin, images.bin, points3D.bin; k = 0
                                      the largest), only models with >= min_model_images images;
                                      ``models/<name>/summary.json`` last: the input is done
    reconstruct.json                  per input: frames used, models, registered images, 3D
                                      points, seconds; and the configuration

Finished inputs (``models/<name>/summary.json`` present) are skipped, so an interrupted run
resumes. Inputs run in parallel through :func:`instructvid.parallel.parallel_map`.

Registered images are named after their source: the file name for a folder of images
(``0003.jpg``), the frame's time for a video (``t000123.450.jpg``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_write_json

__all__ = [
    "ModelRef",
    "ReconstructConf",
    "confs",
    "input_name",
    "load_models",
    "reconstruct",
    "reconstruct_input",
]


@dataclass(frozen=True)
class ReconstructConf:
    """Configuration of per-video reconstruction (keyword-only, typed defaults)."""

    n_frames: int = 50  # frames sampled from a video; a folder uses all its images unless set
    n_images: int | None = None  # cap on the images used from a folder (sampled the same way)
    sampling: str = "random"  # "random" (thesis), "uniform" or "sharp"
    seed: int = 0
    extractor: str = "sift"  # or "torch:/path/weights.pt2" (torch.export) or ".pt" (TorchScript)
    max_features: int = 2048
    max_image_size: int = 1600
    ratio: float | None = 0.85  # Lowe ratio on top of the mutual-NN test (None: mutual NN only)
    camera_model: str = "SIMPLE_RADIAL"
    camera_params: str = ""  # known intrinsics in COLMAP's order for camera_model, e.g. "f,cx,cy,k"
    camera_mode: str = (
        "auto"  # folders: "auto" (COLMAP decides), "single" or "per_image"; videos: single
    )
    min_model_images: int = 5
    min_num_matches: int = 15
    init_min_tri_angle: float = 16.0  # degrees (COLMAP's default); lower it for short baselines
    num_threads: int = 1  # threads of pycolmap per input (inputs run in parallel)
    jpeg_quality: int = 95


#: Named presets.
confs: dict[str, ReconstructConf] = {
    "sift": ReconstructConf(),
    "sift_fast": ReconstructConf(n_frames=24, max_features=2048, max_image_size=800),
}


@dataclass(frozen=True)
class ModelRef:
    """One reconstructed model: node ``id`` = ``"<input-name>/<k>"``."""

    id: str
    input: str
    index: int
    path: Path
    image_dir: Path
    features: Path
    n_images: int
    n_points: int


def quiet_pycolmap(level: int = 2) -> None:
    """Keep COLMAP's log (glog) to warnings (1) or errors (2) on stderr; ``INSTRUCTVID_COLMAP_LOG``
    (0 = everything) overrides."""
    import pycolmap

    pycolmap.logging.minloglevel = int(os.environ.get("INSTRUCTVID_COLMAP_LOG", level))


def input_name(path: str | os.PathLike[str]) -> str:
    """The name of an input: a video's file stem, a folder's name."""
    p = Path(path)
    return p.name if p.is_dir() else p.stem


def _frames_of_input(
    src: Path, out: Path, name: str, conf: ReconstructConf
) -> tuple[Path, list[str], str]:
    """(image folder, image names, kind) of an input; decodes and writes a video's frames."""
    from instructvid.video.decode import frame_name, list_images
    from instructvid.video.sampling import sample_frames, sample_indices, sharpness

    if src.is_dir():
        names = list_images(src)
        if not names:
            raise ValueError(f"no JPEG/PNG image in folder {src}")
        if conf.n_images is not None and len(names) > conf.n_images:
            scores = None
            if conf.sampling == "sharp":
                import cv2

                scores = [sharpness(cv2.imread(str(src / n), cv2.IMREAD_GRAYSCALE)) for n in names]
            idx = sample_indices(
                len(names), conf.n_images, method=conf.sampling, seed=conf.seed, scores=scores
            )
            names = [names[i] for i in idx]
        return src.resolve(), names, "images"
    if not src.is_file():
        raise FileNotFoundError(f"input not found: {src}")
    import cv2

    frame_dir = out / "frames" / name
    frame_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for _, t, rgb in sample_frames(src, conf.n_frames, method=conf.sampling, seed=conf.seed):
        fname = frame_name(t)
        names.append(fname)
        if not (frame_dir / fname).exists():
            _ok, buf = cv2.imencode(
                ".jpg",
                cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, conf.jpeg_quality],
            )
            with atomic_open(frame_dir / fname, "wb") as handle:
                handle.write(buf.tobytes())
    if len(set(names)) != len(names):
        raise ValueError(f"video {src}: two sampled frames share a time stamp")
    return frame_dir.resolve(), names, "video"


def reconstruct_input(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    conf: ReconstructConf = ReconstructConf(),
) -> dict:
    """Reconstruct one input (a video file or a folder of images) under ``out``; its summary.

    Skips the work when ``out/models/<name>/summary.json`` exists and returns that summary.
    """
    import pycolmap

    from instructvid.scene.features import FeatureSet, make_extractor, read_gray, save_features
    from instructvid.scene.matching import mutual_nearest_neighbours

    quiet_pycolmap()
    src, out = Path(src), Path(out)
    name = input_name(src)
    model_root = out / "models" / name
    if (model_root / "summary.json").exists():
        return json.loads((model_root / "summary.json").read_text())
    start = time.perf_counter()
    image_dir, names, kind = _frames_of_input(src, out, name, conf)
    stages = {"frames": time.perf_counter() - start}

    # 1. local features
    feat_path = out / "features" / f"{name}.npz"
    extractor = make_extractor(
        conf.extractor,
        max_features=conf.max_features,
        max_image_size=conf.max_image_size,
        num_threads=conf.num_threads,
    )
    kps, descs = {}, {}
    for n in names:
        kps[n], descs[n] = extractor(read_gray(image_dir / n))
    save_features(feat_path, FeatureSet(kps, descs))
    stages["features"] = time.perf_counter() - start - sum(stages.values())

    # 2. database: images, keypoints, exhaustive mutual-NN matches, two-view geometry
    work = out / "work" / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    db_path = work / "database.db"
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = conf.camera_model
    reader.camera_params = conf.camera_params
    modes = {
        "auto": pycolmap.CameraMode.AUTO,
        "single": pycolmap.CameraMode.SINGLE,
        "per_image": pycolmap.CameraMode.PER_IMAGE,
    }
    if conf.camera_mode not in modes:
        raise ValueError(f"unknown camera mode {conf.camera_mode!r}; choose one of {sorted(modes)}")
    mode = pycolmap.CameraMode.SINGLE if kind == "video" else modes[conf.camera_mode]
    pycolmap.Database.open(db_path).close()  # create the empty database
    pycolmap.import_images(db_path, image_dir, camera_mode=mode, image_names=names, options=reader)
    n_pairs = 0
    with pycolmap.Database.open(db_path) as db:
        ids = {img.name: img.image_id for img in db.read_all_images()}
        for n in names:
            db.write_keypoints(ids[n], kps[n].astype(np.float32))
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                m = mutual_nearest_neighbours(descs[names[a]], descs[names[b]], ratio=conf.ratio)
                if len(m) >= conf.min_num_matches:
                    db.write_matches(ids[names[a]], ids[names[b]], m.astype(np.uint32))
                    n_pairs += 1
    stages["matching"] = time.perf_counter() - start - sum(stages.values())
    verifier = pycolmap.GeometricVerifierOptions()
    verifier.num_threads = conf.num_threads
    tvg = pycolmap.TwoViewGeometryOptions()
    tvg.min_num_inliers = conf.min_num_matches
    tvg.ransac.random_seed = conf.seed
    pycolmap.geometric_verification(
        db_path, verifier_options=verifier, two_view_geometry_options=tvg
    )
    stages["verification"] = time.perf_counter() - start - sum(stages.values())

    # 3. incremental SfM
    pycolmap.set_random_seed(conf.seed)
    opts = pycolmap.IncrementalPipelineOptions()
    opts.min_num_matches = conf.min_num_matches
    opts.min_model_size = max(2, min(conf.min_model_images, len(names)))
    opts.num_threads = conf.num_threads
    opts.random_seed = conf.seed
    opts.mapper.random_seed = conf.seed
    opts.mapper.init_min_tri_angle = conf.init_min_tri_angle
    if len(names) < 3:  # every track is a two-view track: COLMAP would drop them all
        opts.triangulation.ignore_two_view_tracks = False
    opts.triangulation.random_seed = conf.seed
    sfm_dir = work / "sfm"
    sfm_dir.mkdir()
    recs = pycolmap.incremental_mapping(db_path, image_dir, sfm_dir, options=opts)
    stages["mapping"] = time.perf_counter() - start - sum(stages.values())
    ordered = sorted(recs.values(), key=lambda r: r.num_reg_images(), reverse=True)
    kept = [r for r in ordered if r.num_reg_images() >= min(conf.min_model_images, len(names))]
    dropped = [r.num_reg_images() for r in ordered if r not in kept]

    # 4. write the kept models, then the summary (the "done" marker) last
    tmp_root = out / "models" / f".{name}.tmp"
    if tmp_root.exists():
        shutil.rmtree(tmp_root)
    models = []
    for k, rec in enumerate(kept):
        (tmp_root / str(k)).mkdir(parents=True)
        rec.write(tmp_root / str(k))
        models.append(
            {
                "id": f"{name}/{k}",
                "path": f"models/{name}/{k}",
                "images": rec.num_reg_images(),
                "points": rec.num_points3D(),
            }
        )
    summary = {
        "name": name,
        "source": str(src.resolve()),
        "kind": kind,
        "image_dir": str(image_dir),
        "features": str(feat_path.relative_to(out)),
        "frames": len(names),
        "frame_names": names,
        "matched_pairs": n_pairs,
        "models": models,
        "dropped_models": dropped,
        "registered_images": sum(m["images"] for m in models),
        "points3D": sum(m["points"] for m in models),
        "seconds": round(time.perf_counter() - start, 3),
        "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "features_per_image": round(float(np.mean([len(kps[n]) for n in names])), 1),
        "conf": asdict(conf),
    }
    tmp_root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(tmp_root / "summary.json", summary)
    if model_root.exists():
        shutil.rmtree(model_root)
    os.replace(tmp_root, model_root)
    shutil.rmtree(sfm_dir, ignore_errors=True)
    return summary


def _job(args: tuple[str, str, dict]) -> dict:
    src, out, conf = args
    return reconstruct_input(src, out, ReconstructConf(**conf))


def reconstruct(
    inputs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    conf: ReconstructConf = ReconstructConf(),
    *,
    executor: str = "local",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    ray_address: str | None = None,
) -> Path:
    """Reconstruct every input (in parallel) and write ``out/reconstruct.json``; returns its path."""
    from instructvid.parallel import parallel_map

    out = Path(out)
    paths = [Path(p) for p in inputs]
    if not paths:
        raise ValueError("no input to reconstruct")
    names = [input_name(p) for p in paths]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"two inputs share a name (models are stored by name): {dupes}")
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"input not found: {p}")
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(str(p), str(out), asdict(conf)) for p in paths]
    summaries = parallel_map(
        _job,
        jobs,
        executor=executor,
        workers=workers,
        progress=progress,
        ray_address=ray_address,
        describe=lambda j: j[0],
    )
    report = {
        "inputs": {
            s["name"]: {k: v for k, v in s.items() if k not in ("frame_names", "conf")}
            for s in summaries
        },
        "conf": asdict(conf),
    }
    existing = out / "reconstruct.json"
    if existing.exists():  # keep inputs reconstructed by earlier runs into the same OUT
        old = json.loads(existing.read_text()).get("inputs", {})
        report["inputs"] = {
            **{k: v for k, v in old.items() if k not in report["inputs"]},
            **report["inputs"],
        }
    return atomic_write_json(existing, report)


def load_models(out: str | os.PathLike[str]) -> list[ModelRef]:
    """The models of a reconstruction folder, in input then model order."""
    out = Path(out)
    root = out / "models"
    if not root.is_dir():
        raise FileNotFoundError(f"no models/ in {out}: run 'instructvid scene reconstruct' first")
    refs = []
    for summary_path in sorted(root.glob("*/summary.json")):
        s = json.loads(summary_path.read_text())
        for k, m in enumerate(s["models"]):
            refs.append(
                ModelRef(
                    m["id"],
                    s["name"],
                    k,
                    out / m["path"],
                    Path(s["image_dir"]),
                    out / s["features"],
                    m["images"],
                    m["points"],
                )
            )
    return refs
