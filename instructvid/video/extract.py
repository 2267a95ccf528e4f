"""Stages: video files in, one ``.npy`` per video out — features or cues, resumable, in parallel.

Output folder ``DIR``::

    DIR/<stem>.npy       float32 (T, D) features, (T,) flow, (T, 3) hands — row t = second t
                         (at --fps r: row k = time k / r s)
    DIR/manifest.json    {"extractor", "dim", "fps", "weights_sha256",
                          "videos": {"<stem>": {"rows", "duration", "source", "seconds"
                                                [, "truncated": true] [, "no_audio": true]}}}
                         (cues also write "cue"; "seconds" = wall-clock seconds spent on the video,
                         "duration" = the video's length in seconds, "source" = the input path;
                         "no_audio": the crosstask extractor found no audio stream, its audio
                         columns are zeros)
    DIR/problems.json    [{"video": "<stem>", "reason": "…"}] — present, maybe empty

A video's ``<stem>`` is its file name without the extension; it must be a valid id
(:func:`instructvid.io.ids.is_valid_id`), or the video is a problem. Each video is an
independent item of :func:`instructvid.parallel.parallel_map` (a local process pool by default,
a Ray cluster with ``executor="ray"``; the arrays are the same either way). A worker writes the
array, then its manifest entry (``DIR/.entries/<stem>.json``), both atomically; the parent merges
the entries into ``manifest.json`` as videos finish. Re-running skips the videos whose entry and
array exist; a folder written with other settings (extractor, weights, fps) is refused.
One video's failure is recorded in ``problems.json`` and does not stop the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_save_npy, atomic_write_json
from instructvid.io.ids import is_valid_id, safe_join
from instructvid.parallel import ItemError, parallel_map
from instructvid.types import PathLike, ProgressCallback
from instructvid.video.batches import clip_windows, prefetch_batches
from instructvid.video.decode import VIDEO_EXTENSIONS

__all__ = ["ExtractResult", "extract_cues", "extract_features", "list_videos"]

ENTRIES = ".entries"
#: ``on_video(stem, entry)``: called in the parent as each video's manifest entry arrives.
VideoCallback = Callable[[str, dict], None]


@dataclass(frozen=True)
class ExtractResult:
    """What a stage wrote: the folder, the inputs' manifest entries, the problems, and the
    warnings of this run (stem → text, e.g. why a video is truncated)."""

    out: Path
    videos: dict[str, dict]
    problems: list[dict]
    warnings: dict[str, str] = field(default_factory=dict)


def list_videos(inputs: Sequence[PathLike]) -> list[Path]:
    """The video files named by ``inputs`` (files, and folders' video files), sorted, unique.

    A file is taken whatever its extension; a folder contributes the files directly inside it
    whose extension is a video's (``.mp4``, ``.mkv``, …). A missing input is a ValueError.
    """
    found: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.update(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
            )
        elif path.is_file():
            found.add(path)
        else:
            raise ValueError(f"{path}: no such video file or folder")
    return sorted(found)


@dataclass(frozen=True)
class _Job:
    source: str
    stem: str
    out: str
    kind: str  # "features" or "cue"
    name: str
    weights: str | None
    fps: float
    batch: int
    device: str


_CACHE: dict[tuple, object] = {}


def _model(job: _Job):
    """The extractor or cue of ``job``, built once per process."""
    key = (job.kind, job.name, job.weights, job.device, job.batch)
    if key not in _CACHE:
        if job.kind == "features":
            from instructvid.video.features import make_extractor

            _CACHE[key] = make_extractor(
                job.name, weights=job.weights, device=job.device, batch=job.batch
            )
        else:
            from instructvid.video.cues import make_cue

            _CACHE[key] = make_cue(job.name, weights=job.weights, device=job.device)
    return _CACHE[key]


def _features(job: _Job, extractor) -> tuple[np.ndarray, object]:
    """(T, D) features of one video: decoding (a thread) overlaps the model. A whole-video
    extractor (``video_rows``) reads the file itself."""
    from instructvid.video.stream import RateDecoder

    if callable(getattr(extractor, "video_rows", None)):
        return extractor.video_rows(job.source, job.fps)

    size = tuple(extractor.input_size)
    clip_frames = getattr(extractor, "clip_frames", None)
    if clip_frames:  # a clip model: one clip of frames per row
        rate = float(extractor.clip_rate)
        decoder = RateDecoder(job.source, rate=rate, size=size)
        items = clip_windows(decoder, fps=job.fps, n=int(clip_frames), rate=rate)
    else:
        decoder = RateDecoder(job.source, rate=job.fps, size=size)
        items = (image for _, _, image in decoder)
    rows = [extractor(batch) for batch in prefetch_batches(items, job.batch)]
    if not rows:
        return np.zeros((0, int(extractor.dim)), np.float32), decoder
    return np.concatenate(rows).astype(np.float32, copy=False), decoder


def _run_job(job: _Job) -> dict:
    """One video: write its array and entry, or return its problem. Never raises."""
    start = time.perf_counter()
    try:
        model = _model(job)
        if job.kind == "features":
            values, info = _features(job, model)
        else:
            info = model(job.source, job.fps)
            values = np.asarray(info.values, np.float32)
        entry = {
            "rows": int(values.shape[0]),
            "duration": round(float(info.duration), 3),
            "source": job.source,
            "seconds": 0.0,
        }
        if info.truncated:
            entry["truncated"] = True
        entry.update(getattr(info, "flags", None) or {})
        atomic_save_npy(safe_join(job.out, f"{job.stem}.npy"), values)
        entry["seconds"] = round(time.perf_counter() - start, 3)
        atomic_write_json(safe_join(job.out, ENTRIES, f"{job.stem}.json"), entry)
        return {"stem": job.stem, "entry": entry, "warning": info.warning}
    except ValueError as exc:  # unreadable video, wrong weights…
        return {"stem": job.stem, "problem": str(exc)}
    except Exception as exc:  # anything else still must not stop the other videos
        return {"stem": job.stem, "problem": f"{job.source}: {type(exc).__name__}: {exc}"}


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _finished(out: Path, stem: str) -> dict | None:
    entry = _read_json(out / ENTRIES / f"{stem}.json")
    if isinstance(entry, dict) and (out / f"{stem}.npy").is_file():
        return entry
    return None


def _all_finished(out: Path) -> dict[str, dict]:
    """Entries of every video finished in ``out`` (earlier runs on other inputs too)."""
    folder = out / ENTRIES
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.glob("*.json"):
        if is_valid_id(path.stem) and (entry := _finished(out, path.stem)) is not None:
            found[path.stem] = entry
    return found


def _check_header(out: Path, header: dict) -> None:
    old = _read_json(out / "manifest.json")
    if not isinstance(old, dict):
        return
    differs = [k for k, v in header.items() if k in old and old[k] != v]
    if differs and old.get("videos"):
        what = ", ".join(f"{k}={old[k]!r} (asked {header[k]!r})" for k in differs)
        raise ValueError(
            f"{out / 'manifest.json'}: this folder holds results made with other settings: {what}; "
            "use another --out folder"
        )


def _run(
    inputs: Sequence[PathLike],
    out: PathLike,
    *,
    kind: str,
    name: str,
    header: dict,
    weights: PathLike | None,
    fps: float,
    batch: int,
    workers: int | None,
    executor: str,
    ray_address: str | None,
    device: str,
    progress: ProgressCallback | None,
    on_video: VideoCallback | None,
) -> ExtractResult:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_header(out, header)
    problems: list[dict] = []
    videos: dict[str, dict] = {}
    sources: dict[str, Path] = {}
    for path in list_videos(inputs):
        stem = path.stem
        if not is_valid_id(stem):
            problems.append(
                {
                    "video": stem,
                    "reason": f"{path}: the file name {stem!r} is not a "
                    "valid video id (letters, digits, '-', '_' or '.')",
                }
            )
        elif stem in sources:
            problems.append(
                {
                    "video": stem,
                    "reason": f"{path}: another input, {sources[stem]}, "
                    "has the same name; rename one of them",
                }
            )
        else:
            sources[stem] = path
    jobs = []
    for stem, path in sources.items():
        done = _finished(out, stem)
        if done is not None and done.get("source") == str(path):
            videos[stem] = done
        else:
            jobs.append(
                _Job(
                    str(path),
                    stem,
                    str(out),
                    kind,
                    name,
                    None if weights is None else str(weights),
                    float(fps),
                    int(batch),
                    device,
                )
            )

    def write_manifest() -> None:
        every = {**_all_finished(out), **videos}
        atomic_write_json(out / "manifest.json", {**header, "videos": dict(sorted(every.items()))})

    def merge(done: int, total: int) -> None:
        for job in jobs:
            if job.stem not in videos:
                entry = _finished(out, job.stem)
                if entry is not None and entry.get("source") == job.source:
                    videos[job.stem] = entry
                    if on_video:
                        on_video(job.stem, entry)
        if done and total:
            write_manifest()
        if progress:
            progress(done, total)

    try:
        results = parallel_map(
            _run_job,
            jobs,
            executor=executor,
            workers=workers,
            progress=merge,
            ray_address=ray_address,
            describe=lambda j: j.stem,
        )
    except ItemError as exc:  # a worker died (killed, out of memory): the others' work stands
        results = []
        for i, job in enumerate(jobs):
            entry = _finished(out, job.stem)
            if i in exc.errors or entry is None:
                reason = exc.errors.get(i, "no result")
                results.append({"stem": job.stem, "problem": f"{job.source}: {reason}"})
            else:
                results.append({"stem": job.stem, "entry": entry})
    warnings: dict[str, str] = {}
    for result in results:
        if "problem" in result:
            problems.append({"video": result["stem"], "reason": result["problem"]})
        else:
            videos[result["stem"]] = result["entry"]
            if result.get("warning"):
                warnings[result["stem"]] = result["warning"]
    write_manifest()
    problems.sort(key=lambda p: p["video"])
    atomic_write_json(out / "problems.json", problems)
    mine = {stem: videos[stem] for stem in sources if stem in videos}
    return ExtractResult(out, mine, problems, warnings)


def extract_features(
    inputs: Sequence[PathLike],
    out: PathLike,
    *,
    extractor: str = "efficientnet-lite0",
    weights: PathLike | None = None,
    fps: float = 1.0,
    batch: int = 32,
    workers: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    device: str = "auto",
    progress: ProgressCallback | None = None,
    on_video: VideoCallback | None = None,
) -> ExtractResult:
    """Write ``fps`` feature rows per second of every input video (see the module docstring).

    The extractor is built here first, so that a missing or wrong weights file stops the stage
    before any video (a ValueError naming the file). ``progress(done, total)`` counts videos;
    ``on_video(stem, entry)`` receives each finished video's manifest entry. Entries of the
    result carry ``"warning"`` (e.g. why a video is truncated) when there is one.
    """
    from instructvid.video.features import make_extractor
    from instructvid.video.weights import file_sha256

    model = make_extractor(extractor, weights=weights, device=device, batch=batch)
    header = {
        "extractor": model.name,
        "dim": int(model.dim),
        "fps": float(fps),
        "weights_sha256": getattr(model, "weights_sha256", None)
        or (file_sha256(model.weights) if model.weights is not None else None),
    }
    _CACHE[("features", extractor, None if weights is None else str(weights), device, batch)] = (
        model
    )
    return _run(
        inputs,
        out,
        kind="features",
        name=extractor,
        header=header,
        weights=weights,
        fps=fps,
        batch=batch,
        workers=workers,
        executor=executor,
        ray_address=ray_address,
        device=device,
        progress=progress,
        on_video=on_video,
    )


def extract_cues(
    inputs: Sequence[PathLike],
    out: PathLike,
    *,
    cue: str,
    fps: float = 1.0,
    workers: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    weights: PathLike | None = None,
    device: str = "auto",
    progress: ProgressCallback | None = None,
    on_video: VideoCallback | None = None,
) -> ExtractResult:
    """Write the per-second cue ``cue`` (``flow`` or ``hands``) of every input video.

    Same layout, resuming and parallelism as :func:`extract_features`; the manifest also holds
    ``"cue"``, and ``"dim"`` is 1 for ``flow`` (files hold (T,)) and 3 for ``hands`` ((T, 3)).
    """
    from instructvid.video.cues import make_cue
    from instructvid.video.weights import file_sha256

    model = make_cue(cue, weights=weights, device=device)
    header = {
        "cue": model.name,
        "extractor": model.name,
        "dim": int(model.dim),
        "fps": float(fps),
        "weights_sha256": file_sha256(model.weights) if model.weights is not None else None,
    }
    _CACHE[("cue", cue, None if weights is None else str(weights), device, 1)] = model
    return _run(
        inputs,
        out,
        kind="cue",
        name=cue,
        header=header,
        weights=weights,
        fps=fps,
        batch=1,
        workers=workers,
        executor=executor,
        ray_address=ray_address,
        device=device,
        progress=progress,
        on_video=on_video,
    )
