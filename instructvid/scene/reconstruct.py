"""Per-video reconstruction (thesis §5.3.1): N frames → local features → exhaustive mutual-NN
matching → incremental SfM (pycolmap) → one or more COLMAP models.

Stage function (hloc style): :func:`reconstruct` writes, for every input, under ``out``::

    frames/<name>/t000123.450.jpg     the sampled frames of a video input (a folder input's images
                                      are read where they are)
    features/<name>.npz               local features of every used frame (see scene.features)
    work/<name>/database.db           the COLMAP database (keypoints, matches, two-view geometry)
    models/<name>/<k>/                COLMAP models (cameras.bin, images.bin, points3D.bin; k = 0
                                      the largest), only models with >= min_model_images images
                                      and >= min_model_points 3D points;
                                      ``models/<name>/summary.json`` last: the input is done
    reconstruct.json                  per input: frames used, models (with their cameras),
                                      registered images, 3D points, seconds, the settings; and the
                                      configuration

Finished inputs (``models/<name>/summary.json`` present) are skipped, so an interrupted run
resumes — but only when they were made with the same settings (:func:`settings_of`: every field
of :class:`ReconstructConf` but ``num_threads``); a finished input made with other settings is an
error (:class:`SettingsMismatchError`) unless ``overwrite=True`` redoes it. Inputs run in parallel
through :func:`instructvid.parallel.parallel_map`.

Intrinsics: ``camera_model`` and ``camera_params`` (COLMAP's parameter string for that model,
e.g. ``"f,cx,cy"`` for SIMPLE_PINHOLE, in pixels of the full-size images) give known intrinsics;
``refine_intrinsics`` says whether bundle adjustment may change them (``None``: refine when no
parameters are given, keep them fixed when they are). Fixed means COLMAP's own options
(``IncrementalPipelineOptions.ba_refine_focal_length`` / ``ba_refine_principal_point`` /
``ba_refine_extra_params`` and the mapper's ``abs_pose_refine_focal_length`` /
``abs_pose_refine_extra_params``) are all off; refined means COLMAP's defaults (focal length and
extra parameters refined, principal point fixed).

Registered images are named after their source: the file name for a folder of images
(``0003.jpg``), the frame's time for a video (``t000123.450.jpg``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_write_json
from instructvid.types import PathLike, ProgressCallback

__all__ = [
    "ModelRef",
    "ReconstructConf",
    "SettingsMismatchError",
    "camera_param_names",
    "confs",
    "input_name",
    "load_models",
    "parse_camera_params",
    "reconstruct",
    "reconstruct_input",
    "select_models",
    "settings_of",
]


class SettingsMismatchError(ValueError):
    """A finished input of the output folder was made with other settings than those asked."""


def camera_param_names(model: str) -> list[str]:
    """The names of COLMAP's parameters of a camera model, in order (``["f", "cx", "cy"]``).

    Raises:
        ValueError: for an unknown model name.
    """
    import pycolmap

    members = {k: v for k, v in pycolmap.CameraModelId.__members__.items() if k != "INVALID"}
    if model not in members:
        raise ValueError(f"unknown camera model {model!r}; choose one of {', '.join(members)}")
    cam = pycolmap.Camera.create_from_model_id(1, members[model], 1.0, 100, 100)
    return [n.strip() for n in cam.params_info.split(",")]


def parse_camera_params(model: str, params: str) -> list[float]:
    """Parse and check a COLMAP parameter string (``"615.17,312.19,243.44"``) for ``model``.

    Raises:
        ValueError: unknown model, wrong number of values, a value that is not a finite number,
            or a focal length that is not positive; the message names the expected parameters.
    """
    names = camera_param_names(model)
    expected = f"{len(names)} comma-separated numbers for {model} ({','.join(names)})"
    parts = [p.strip() for p in params.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"camera parameters {params!r}: expected {expected}") from None
    if len(values) != len(names) or not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"camera parameters {params!r}: expected {expected}, got {len(values)} value(s)"
        )
    for n, v in zip(names, values, strict=True):
        if n in ("f", "fx", "fy") and v <= 0:
            raise ValueError(f"camera parameters {params!r}: focal length {n} must be > 0")
    return values


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
    # bundle adjustment may change the intrinsics; None: refine unless camera_params are given
    refine_intrinsics: bool | None = None
    camera_mode: str = (
        "auto"  # folders: "auto" (COLMAP decides), "single" or "per_image"; videos: single
    )
    min_model_images: int = 5
    min_model_points: int = 15  # fewer 3D points than an edge needs inliers: never alignable
    min_num_matches: int = 15
    init_min_tri_angle: float = 16.0  # degrees (COLMAP's default); lower it for short baselines
    num_threads: int = 1  # threads of pycolmap per input (inputs run in parallel)
    jpeg_quality: int = 95

    @property
    def refines_intrinsics(self) -> bool:
        """Whether bundle adjustment refines the intrinsics (``refine_intrinsics`` resolved)."""
        if self.refine_intrinsics is None:
            return not self.camera_params.strip()
        return self.refine_intrinsics

    def check(self) -> None:
        """Raise ``ValueError`` with a clear message for inconsistent settings."""
        modes = ("auto", "single", "per_image")
        if self.camera_mode not in modes:
            raise ValueError(f"unknown camera mode {self.camera_mode!r}; choose one of {modes}")
        if self.camera_params.strip():
            parse_camera_params(self.camera_model, self.camera_params)
        else:
            camera_param_names(self.camera_model)
            if self.refine_intrinsics is False:
                raise ValueError(
                    "fixed intrinsics need known ones: give camera_params (--camera-params) "
                    "or let bundle adjustment refine them"
                )
        if self.min_model_images < 1 or self.min_model_points < 0:
            raise ValueError("min_model_images must be >= 1 and min_model_points >= 0")


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
    run_id: str = ""  # of the reconstruction run that wrote it ("" for older folders)


def settings_of(conf: ReconstructConf | dict) -> dict:
    """The settings that decide an input's result: every field but ``num_threads``, with
    ``refine_intrinsics`` resolved. A dict (a recorded ``conf`` of an older summary) is completed
    with the defaults of fields it lacks."""
    if isinstance(conf, dict):
        known = {f.name for f in fields(ReconstructConf)}
        conf = ReconstructConf(**{k: v for k, v in conf.items() if k in known})
    d = asdict(conf)
    d.pop("num_threads")
    d["refine_intrinsics"] = conf.refines_intrinsics
    try:  # "615.17, 312.19,243.44" and "615.17,312.19,243.44" are the same intrinsics
        d["camera_params"] = ",".join(repr(float(x)) for x in d["camera_params"].split(","))
    except ValueError:
        pass
    return d


def _finished(model_root: Path, conf: ReconstructConf) -> dict | None:
    """The summary of a finished input made with the same settings; None if not finished.

    Raises:
        SettingsMismatchError: it is finished but was made with other settings.
    """
    path = model_root / "summary.json"
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    old = summary.get("settings") or settings_of(summary.get("conf", {}))
    new = settings_of(conf)
    diff = {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}
    if diff:
        changes = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in sorted(diff.items()))
        raise SettingsMismatchError(
            f"input {model_root.name!r} in {model_root.parent.parent} was reconstructed with other "
            f"settings ({changes}); use another output folder, the same settings, or overwrite "
            "(--overwrite) to redo it"
        )
    return summary


def select_models(recs, min_images: int, min_points: int) -> tuple[list, list[dict]]:
    """Kept models, largest first, and the dropped ones as ``{"images", "points"}``.

    A model is kept when it has at least ``min_images`` registered images and at least
    ``min_points`` 3D points (a model with registered images but no points cannot be aligned).
    """
    ordered = sorted(recs, key=lambda r: (r.num_reg_images(), r.num_points3D()), reverse=True)
    kept, dropped = [], []
    for r in ordered:
        if r.num_reg_images() >= min_images and r.num_points3D() >= min_points:
            kept.append(r)
        else:
            dropped.append({"images": r.num_reg_images(), "points": r.num_points3D()})
    return kept, dropped


def _cameras(rec) -> list[dict]:
    return [
        {
            "id": int(cid),
            "model": cam.model.name,
            "width": int(cam.width),
            "height": int(cam.height),
            "params": [float(x) for x in cam.params],
        }
        for cid, cam in sorted(rec.cameras.items())
    ]


def quiet_pycolmap(level: int = 2) -> None:
    """Keep COLMAP's log (glog) to warnings (1) or errors (2) on stderr; ``INSTRUCTVID_COLMAP_LOG``
    (0 = everything) overrides."""
    import pycolmap

    pycolmap.logging.minloglevel = int(os.environ.get("INSTRUCTVID_COLMAP_LOG", level))


def input_name(path: PathLike) -> str:
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
    src: PathLike,
    out: PathLike,
    conf: ReconstructConf = ReconstructConf(),
    *,
    overwrite: bool = False,
    name: str | None = None,
) -> dict:
    """Reconstruct one input (a video file or a folder of images) under ``out``; its summary.

    ``name`` (default :func:`input_name`) is the input's folder under ``out/models``.

    Skips the work when ``out/models/<name>/summary.json`` exists with the same settings and
    returns that summary; redoes it when ``overwrite``.

    Raises:
        SettingsMismatchError: finished with other settings and not ``overwrite``.
        ValueError: inconsistent settings (see :meth:`ReconstructConf.check`).
    """
    import pycolmap

    from instructvid.scene.features import FeatureSet, make_extractor, read_gray, save_features
    from instructvid.scene.matching import mutual_nearest_neighbours

    quiet_pycolmap()
    conf.check()
    src, out = Path(src), Path(out)
    name = name or input_name(src)
    model_root = out / "models" / name
    if not overwrite:
        done = _finished(model_root, conf)
        if done is not None:
            return done
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
    if conf.camera_params.strip():
        values = parse_camera_params(conf.camera_model, conf.camera_params)
        reader.camera_params = ",".join(repr(v) for v in values)
    modes = {
        "auto": pycolmap.CameraMode.AUTO,
        "single": pycolmap.CameraMode.SINGLE,
        "per_image": pycolmap.CameraMode.PER_IMAGE,
    }
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
    if not conf.refines_intrinsics:  # keep the given intrinsics exactly (COLMAP's own switches)
        opts.ba_refine_focal_length = False
        opts.ba_refine_principal_point = False
        opts.ba_refine_extra_params = False
        opts.mapper.abs_pose_refine_focal_length = False
        opts.mapper.abs_pose_refine_extra_params = False
    sfm_dir = work / "sfm"
    sfm_dir.mkdir()
    recs = pycolmap.incremental_mapping(db_path, image_dir, sfm_dir, options=opts)
    stages["mapping"] = time.perf_counter() - start - sum(stages.values())
    kept, dropped = select_models(
        recs.values(), min(conf.min_model_images, len(names)), conf.min_model_points
    )

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
                "cameras": _cameras(rec),
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
        "settings": settings_of(conf),
        "run_id": uuid.uuid4().hex,  # changes whenever the input is redone (align's cache key)
        "conf": asdict(conf),
    }
    tmp_root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(tmp_root / "summary.json", summary)
    if model_root.exists():
        shutil.rmtree(model_root)
    os.replace(tmp_root, model_root)
    shutil.rmtree(sfm_dir, ignore_errors=True)
    return summary


def _job(args: tuple[str, str, dict, bool, str]) -> dict:
    src, out, conf, overwrite, name = args
    return reconstruct_input(src, out, ReconstructConf(**conf), overwrite=overwrite, name=name)


def reconstruct(
    inputs: Sequence[PathLike],
    out: PathLike,
    conf: ReconstructConf = ReconstructConf(),
    *,
    executor: str = "local",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    ray_address: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Reconstruct every input (in parallel) and write ``out/reconstruct.json``; returns its path.

    Finished inputs made with the same settings are skipped; ``overwrite`` redoes every input.

    Raises:
        SettingsMismatchError: before any work, if a finished input was made with other settings
            and not ``overwrite``.
        ValueError: inconsistent settings, no input, or two inputs given one name.
        FileNotFoundError: a missing input.
    """
    from instructvid.parallel import parallel_map
    from instructvid.scene.input_names import input_names

    conf.check()
    out = Path(out)
    if not inputs:
        raise ValueError("no input to reconstruct")
    names, paths = map(list, zip(*input_names(inputs), strict=True))  # unique; NAME=PATH
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"input not found: {p}")
    if not overwrite:
        for n in names:
            _finished(out / "models" / n, conf)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (str(p), str(out), asdict(conf), overwrite, n) for p, n in zip(paths, names, strict=True)
    ]
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


def load_models(out: PathLike) -> list[ModelRef]:
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
                    s.get("run_id", ""),
                )
            )
    return refs
