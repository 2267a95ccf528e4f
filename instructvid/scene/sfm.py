"""The stages of reconstructing one input (thesis §5.3.1), hloc style, and their settings.

Each stage takes the frozen :class:`ReconstructConf` and does one job:

* :func:`sample_input`: the frames of a video (decoded, written as JPEG) or the images of a folder;
* :func:`extract_features`: local features of every image (SIFT or a torch model);
* :func:`match_exhaustive`: a COLMAP database with the images, their keypoints and the mutual-NN
  matches of every pair;
* :func:`verify_geometry`: COLMAP's two-view geometry of the matched pairs;
* :func:`map_incremental`: COLMAP's incremental SfM (one or more models);
* :func:`keep_models`: the models large enough (:func:`select_models`), written.

:func:`instructvid.scene.reconstruct.reconstruct_input` runs them in this order, skips finished
inputs and writes the summary.

Intrinsics: ``camera_model`` and ``camera_params`` (COLMAP's parameter string for that model,
e.g. ``"f,cx,cy"`` for SIMPLE_PINHOLE, in pixels of the full-size images) give known intrinsics;
``refine_intrinsics`` says whether bundle adjustment may change them (``None``: refine when no
parameters are given, keep them fixed when they are). Fixed means COLMAP's own options
(``IncrementalPipelineOptions.ba_refine_focal_length`` / ``ba_refine_principal_point`` /
``ba_refine_extra_params`` and the mapper's ``abs_pose_refine_focal_length`` /
``abs_pose_refine_extra_params``) are all off; refined means COLMAP's defaults (focal length and
extra parameters refined, principal point fixed).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open
from instructvid.io.ids import safe_join
from instructvid.scene.features import FeatureSet
from instructvid.types import ProgressCallback

__all__ = [
    "ReconstructConf",
    "camera_param_names",
    "confs",
    "extract_features",
    "keep_models",
    "map_incremental",
    "match_exhaustive",
    "parse_camera_params",
    "quiet_pycolmap",
    "sample_input",
    "select_models",
    "verify_geometry",
]


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


def _registered_names(rec) -> set[str]:
    """Names of the images with a pose in a model (empty if the model does not list them)."""
    images = getattr(rec, "images", None)
    if images is None:
        return set()
    return {im.name for im in images.values() if im.has_pose}


def select_models(
    recs, min_images: int, min_points: int, *, max_shared: float = 0.5
) -> tuple[list, list[dict]]:
    """Kept models, largest first, and the dropped ones as ``{"images", "points"}``.

    A model is kept when it has at least ``min_images`` registered images and at least
    ``min_points`` 3D points (a model with registered images but no points cannot be aligned),
    and when at most ``max_shared`` of its images are already registered in a larger kept model:
    COLMAP's mapper can register a frame again in a later model, and such a second model of
    the same frames adds nothing but the risk of a wrong one (dropped with ``"duplicate": true``).
    """
    ordered = sorted(recs, key=lambda r: (r.num_reg_images(), r.num_points3D()), reverse=True)
    kept, dropped = [], []
    held: set[str] = set()
    for r in ordered:
        entry = {"images": r.num_reg_images(), "points": r.num_points3D()}
        if r.num_reg_images() >= min_images and r.num_points3D() >= min_points:
            names = _registered_names(r)
            if names and len(names & held) > max_shared * len(names):
                dropped.append({**entry, "duplicate": True})
                continue
            kept.append(r)
            held |= names
        else:
            dropped.append(entry)
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


def sample_input(
    src: Path, out: Path, name: str, conf: ReconstructConf
) -> tuple[Path, list[str], str]:
    """Stage *sample*: ``(image folder, image names, kind)`` of an input.

    A folder's JPEG/PNG images are used where they are (``conf.n_images`` of them when set,
    chosen by ``conf.sampling``); ``conf.n_frames`` frames of a video are decoded and written to
    ``out/frames/<name>/`` (JPEG, named after their time). ``kind`` is ``"images"`` or ``"video"``.
    """
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

    frame_dir = safe_join(out / "frames", name)
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


def extract_features(
    image_dir: Path,
    names: Sequence[str],
    feature_path: Path,
    conf: ReconstructConf,
    *,
    progress: ProgressCallback | None = None,
) -> FeatureSet:
    """Stage *extract*: local features of every image (``conf.extractor``), written to
    ``feature_path`` (see :mod:`instructvid.scene.features`) and returned; ``progress(images
    done, images)`` after each image."""
    from instructvid.scene.features import make_extractor, read_gray, save_features

    extractor = make_extractor(
        conf.extractor,
        max_features=conf.max_features,
        max_image_size=conf.max_image_size,
        num_threads=conf.num_threads,
    )
    kps, descs = {}, {}
    for i, n in enumerate(names):
        kps[n], descs[n] = extractor(read_gray(image_dir / n))
        if progress is not None:
            progress(i + 1, len(names))
    features = FeatureSet(kps, descs)
    save_features(feature_path, features)
    return features


def match_exhaustive(
    db_path: Path,
    image_dir: Path,
    names: Sequence[str],
    kind: str,
    features: FeatureSet,
    conf: ReconstructConf,
    *,
    progress: ProgressCallback | None = None,
) -> int:
    """Stage *match*: a new COLMAP database at ``db_path`` with the images (one camera for a
    video; ``conf.camera_mode`` for a folder; ``conf.camera_model`` and known
    ``conf.camera_params``), their keypoints and the mutual-NN matches (Lowe ratio
    ``conf.ratio``) of every pair with at least ``conf.min_num_matches``; the number of such
    pairs. ``progress(images done, images)`` after each image's pairs with the later ones."""
    import pycolmap

    from instructvid.scene.matching import mutual_nearest_neighbours

    kps, descs = features.keypoints, features.descriptors
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
    pycolmap.import_images(
        db_path, image_dir, camera_mode=mode, image_names=list(names), options=reader
    )
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
            if progress is not None:
                progress(a + 1, len(names))
    return n_pairs


def verify_geometry(db_path: Path, conf: ReconstructConf) -> None:
    """Stage *verify*: COLMAP's two-view geometry of every matched pair of the database (RANSAC
    seeded by ``conf.seed``; at least ``conf.min_num_matches`` inliers)."""
    import pycolmap

    verifier = pycolmap.GeometricVerifierOptions()
    verifier.num_threads = conf.num_threads
    tvg = pycolmap.TwoViewGeometryOptions()
    tvg.min_num_inliers = conf.min_num_matches
    tvg.ransac.random_seed = conf.seed
    pycolmap.geometric_verification(
        db_path, verifier_options=verifier, two_view_geometry_options=tvg
    )


def map_incremental(
    db_path: Path,
    image_dir: Path,
    sfm_dir: Path,
    n_images: int,
    conf: ReconstructConf,
    *,
    progress: ProgressCallback | None = None,
) -> list:
    """Stage *map*: COLMAP's incremental SfM on the verified database (seeded by ``conf.seed``;
    intrinsics fixed unless :attr:`ReconstructConf.refines_intrinsics`); every model it built
    (``pycolmap.Reconstruction``), written under ``sfm_dir`` by COLMAP.

    ``progress(images registered, n_images)`` as COLMAP registers images (the initial pair
    counts two; capped at ``n_images`` when several models are tried)."""
    import pycolmap

    pycolmap.set_random_seed(conf.seed)
    opts = pycolmap.IncrementalPipelineOptions()
    opts.min_num_matches = conf.min_num_matches
    opts.min_model_size = max(2, min(conf.min_model_images, n_images))
    opts.num_threads = conf.num_threads
    opts.random_seed = conf.seed
    opts.mapper.random_seed = conf.seed
    opts.mapper.init_min_tri_angle = conf.init_min_tri_angle
    if n_images < 3:  # every track is a two-view track: COLMAP would drop them all
        opts.triangulation.ignore_two_view_tracks = False
    opts.triangulation.random_seed = conf.seed
    if not conf.refines_intrinsics:  # keep the given intrinsics exactly (COLMAP's own switches)
        opts.ba_refine_focal_length = False
        opts.ba_refine_principal_point = False
        opts.ba_refine_extra_params = False
        opts.mapper.abs_pose_refine_focal_length = False
        opts.mapper.abs_pose_refine_extra_params = False
    sfm_dir.mkdir()
    callbacks = {}
    if progress is not None:
        registered = [0]

        def count(images: int) -> None:
            registered[0] = min(registered[0] + images, n_images)
            progress(registered[0], n_images)

        callbacks = {
            "initial_image_pair_callback": lambda: count(2),
            "next_image_callback": lambda: count(1),
        }
    recs = pycolmap.incremental_mapping(db_path, image_dir, sfm_dir, options=opts, **callbacks)
    return list(recs.values())


def keep_models(
    recs: Sequence, out: Path, name: str, n_images: int, conf: ReconstructConf
) -> tuple[list[dict], list[dict], Path]:
    """Stage *keep*: the models with at least ``conf.min_model_images`` images (at most
    ``n_images``) and ``conf.min_model_points`` points, largest first, written to
    ``out/models/.<name>.tmp/<k>/``; ``(kept models' entries, dropped models, that folder)``.
    The caller writes the summary into the folder and moves it into place."""
    kept, dropped = select_models(recs, min(conf.min_model_images, n_images), conf.min_model_points)
    tmp_root = safe_join(out / "models", f".{name}.tmp")
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
    tmp_root.mkdir(parents=True, exist_ok=True)
    return models, dropped, tmp_root
