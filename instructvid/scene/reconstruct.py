"""Per-video reconstruction (thesis §5.3.1): N frames → local features → exhaustive mutual-NN
matching → incremental SfM (pycolmap) → one or more COLMAP models.

:func:`reconstruct_input` runs the stages of :mod:`instructvid.scene.sfm` (sample, extract,
match, verify, map, keep) for one input, :func:`reconstruct` for many. :func:`reconstruct`
writes, for every input, under ``out``::

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
of :class:`~instructvid.scene.sfm.ReconstructConf` but ``num_threads``); a finished input made with other settings is an
error (:class:`SettingsMismatchError`) unless ``overwrite=True`` redoes it. Inputs run in parallel
through :func:`instructvid.parallel.parallel_map`.

Registered images are named after their source: the file name for a folder of images
(``0003.jpg``), the frame's time for a video (``t000123.450.jpg``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.ids import check_id, safe_join
from instructvid.scene.sfm import (
    ReconstructConf,
    extract_features,
    keep_models,
    map_incremental,
    match_exhaustive,
    quiet_pycolmap,
    sample_input,
    verify_geometry,
)
from instructvid.types import PathLike, ProgressCallback

__all__ = [
    "ModelRef",
    "SettingsMismatchError",
    "input_name",
    "load_models",
    "reconstruct",
    "reconstruct_input",
    "settings_of",
]


class SettingsMismatchError(ValueError):
    """A finished input of the output folder was made with other settings than those asked."""


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


def input_name(path: PathLike) -> str:
    """The name of an input: a video's file stem, a folder's name (of the absolute path, so
    ``..`` names the parent folder).

    Raises:
        FormatError: the name is not a valid id (letters, digits, ``-``, ``_``, ``.``; see
            :func:`instructvid.io.ids.check_id`): output folders are named after it.
    """
    p = Path(os.path.abspath(path))
    return check_id(p.name if p.is_dir() else p.stem, path=path, what="input name")


def reconstruct_input(
    src: PathLike,
    out: PathLike,
    conf: ReconstructConf | None = None,
    *,
    overwrite: bool = False,
    name: str | None = None,
    progress: ProgressCallback | None = None,
) -> dict:
    """Reconstruct one input (a video file or a folder of images) under ``out``; its summary.

    Runs the stages in order — :func:`sample_input`, :func:`extract_features`,
    :func:`match_exhaustive`, :func:`verify_geometry`, :func:`map_incremental`,
    :func:`keep_models` — then writes ``models/<name>/summary.json`` last.
    ``name`` (default :func:`input_name`) is the input's folder under ``out/models``.
    ``progress(done, total)`` moves with the images of each stage: ``total = 3 N + 2`` for
    ``N`` images (sampling 1, features N, matching N, verification 1, mapping N registered).

    Skips the work when ``out/models/<name>/summary.json`` exists with the same settings and
    returns that summary; redoes it when ``overwrite``.

    Raises:
        SettingsMismatchError: finished with other settings and not ``overwrite``.
        ValueError: inconsistent settings (see :meth:`ReconstructConf.check`).
    """
    conf = conf or ReconstructConf()
    quiet_pycolmap()
    conf.check()
    src, out = Path(src), Path(out)
    name = name or input_name(src)
    model_root = safe_join(out / "models", name)
    if not overwrite:
        done = _finished(model_root, conf)
        if done is not None:
            return done
    start = time.perf_counter()
    stages: dict[str, float] = {}

    def timed(stage: str) -> None:
        stages[stage] = time.perf_counter() - start - sum(stages.values())

    image_dir, names, kind = sample_input(src, out, name, conf)
    timed("frames")
    n = len(names)
    stage = _StageProgress(progress, 3 * n + 2)
    stage.at(1)
    feature_path = safe_join(out / "features", f"{name}.npz")
    features = extract_features(image_dir, names, feature_path, conf, progress=stage.after(1))
    timed("features")
    work = safe_join(out / "work", name)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    db_path = work / "database.db"
    n_pairs = match_exhaustive(
        db_path, image_dir, names, kind, features, conf, progress=stage.after(1 + n)
    )
    timed("matching")
    verify_geometry(db_path, conf)
    timed("verification")
    stage.at(2 * n + 2)
    sfm_dir = work / "sfm"
    recs = map_incremental(
        db_path, image_dir, sfm_dir, len(names), conf, progress=stage.after(2 * n + 2)
    )
    stage.at(3 * n + 2)
    timed("mapping")
    models, dropped, tmp_root = keep_models(recs, out, name, len(names), conf)
    summary = {
        "name": name,
        "source": str(src.resolve()),
        "kind": kind,
        "image_dir": str(image_dir),
        "features": str(feature_path.relative_to(out)),
        "frames": len(names),
        "frame_names": names,
        "matched_pairs": n_pairs,
        "models": models,
        "dropped_models": dropped,
        "registered_images": sum(m["images"] for m in models),
        "points3D": sum(m["points"] for m in models),
        "seconds": round(time.perf_counter() - start, 3),
        "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "features_per_image": round(float(np.mean([len(features.keypoints[n]) for n in names])), 1),
        "settings": settings_of(conf),
        "run_id": uuid.uuid4().hex,  # changes whenever the input is redone (align's cache key)
        "conf": asdict(conf),
    }
    atomic_write_json(tmp_root / "summary.json", summary)
    if model_root.exists():
        shutil.rmtree(model_root)
    os.replace(tmp_root, model_root)
    shutil.rmtree(sfm_dir, ignore_errors=True)
    return summary


class _StageProgress:
    """An input's ``progress(done, total)`` from its stages' own ``(done, stage_total)``."""

    def __init__(self, progress: ProgressCallback | None, total: int) -> None:
        self.progress, self.total = progress, total

    def at(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.total)

    def after(self, offset: int) -> ProgressCallback | None:
        """A stage's callback: its ``done`` counts after ``offset`` units of the input."""
        if self.progress is None:
            return None
        return lambda done, _stage_total: self.at(offset + done)


def _job(args: tuple[str, str, dict, bool, str], report: ProgressCallback) -> dict:
    src, out, conf, overwrite, name = args
    return reconstruct_input(
        src, out, ReconstructConf(**conf), overwrite=overwrite, name=name, progress=report
    )


def reconstruct(
    inputs: Sequence[PathLike],
    out: PathLike,
    conf: ReconstructConf | None = None,
    *,
    executor: str = "local",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    ray_address: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Reconstruct every input (in parallel) and write ``out/reconstruct.json``; returns its path.

    Finished inputs made with the same settings are skipped; ``overwrite`` redoes every input.
    ``progress(done, len(inputs))`` moves with the images of every stage inside the inputs
    (``done`` is fractional while inputs run).

    Raises:
        SettingsMismatchError: before any work, if a finished input was made with other settings
            and not ``overwrite``.
        ValueError: inconsistent settings, no input, or two inputs given one name.
        FileNotFoundError: a missing input.
    """
    from instructvid.parallel import parallel_map
    from instructvid.scene.input_names import input_names

    conf = conf or ReconstructConf()
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
            _finished(safe_join(out / "models", n), conf)
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
        item_progress=True,
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
                    check_id(s["name"], path=summary_path, what="input name"),
                    k,
                    safe_join(out, m["path"]),
                    Path(s["image_dir"]),
                    safe_join(out, s["features"]),
                    m["images"],
                    m["points"],
                    s.get("run_id", ""),
                )
            )
    return refs
