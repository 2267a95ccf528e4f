"""Narration → temporal constraints (thesis app. A.1.1): per-step intervals for a dataset's videos.

For a video of task τ (K ordered step texts) with subtitles (timed words), steps 1–4 — windows of
words, their similarity to the step texts, the ordered DP, the chosen position with its time and
score — are :mod:`instructvid.steps.narration.matching`; the subtitles are read by
:mod:`instructvid.steps.narration.corpus` and the text representation fitted by
:mod:`instructvid.steps.narration.encoder`. This module does the rest:

5. **Interval**: ``[time + shift − length/2, time + shift + length/2]`` clipped to the video
   (default ``length`` 9 s, the mean length of the release's constraints; ``shift`` 0), kept only
   if the score reaches the **threshold** (chosen on the validation videos to maximise F1,
   :func:`~instructvid.steps.narration.metrics.select_threshold`, or given).

Outputs of :func:`build_constraints` under ``OUT`` (the dataset folder is never written)::

    OUT/config.json                  parameters, threshold (and its validation P/R/F1), counts;
                                     the matching parameters must agree when OUT is reused
    OUT/encoder/                     the fitted text representation (TF-IDF vocabulary, FastText…)
    OUT/matches/<task>_<vid>.json    per video: status, duration, and per step its run, time and
                                     score (the resume unit: a video with this file is skipped)
    OUT/<task>_<vid>.csv             the constraints, CrossTask format ``step,start,end``

so that ``instructvid steps train DATA --constraints OUT`` reads them. A video whose subtitles are
missing, empty or malformed, or that has fewer subtitle windows than steps, gets no CSV (a
warning says why); its ``matches`` file records the status.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError, Segment, write_segments
from instructvid.io.ids import safe_join
from instructvid.io.subtitles import TimedWord
from instructvid.steps.narration.corpus import SubtitleSkippedWarning, read_corpus
from instructvid.steps.narration.encoder import fit_encoder
from instructvid.steps.narration.matching import (
    DEFAULT_WINDOW,
    StepMatch,
    default_stride,
    match_steps,
)
from instructvid.steps.narration.metrics import ScoredInterval, select_threshold
from instructvid.text.embed import load_encoder
from instructvid.text.encoder import TextEncoder
from instructvid.types import PathLike, ProgressCallback

__all__ = [
    "DEFAULT_LENGTH",
    "ConstraintRun",
    "VideoMatches",
    "build_constraints",
    "intervals_from_matches",
    "load_matches",
]


#: Interval length in seconds (the release's mean constraint length, ≈ 9 s).
DEFAULT_LENGTH = 9.0
_MATCH_KEYS = ("text", "window", "stride", "text_model")


@dataclass
class VideoMatches:
    """Matching result of one video (``status``: ``ok``, ``empty``, ``too-short``, ``missing``,
    ``malformed``; only ``ok`` has matches)."""

    task_id: str
    video_id: str
    status: str
    duration: float
    n_words: int = 0
    matches: list[StepMatch] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> VideoMatches:
        data = dict(obj)
        data["matches"] = [StepMatch(**m) for m in data.get("matches", [])]
        return cls(**data)


def intervals_from_matches(
    matches: Iterable[StepMatch],
    duration: float,
    *,
    length: float = DEFAULT_LENGTH,
    shift: float = 0.0,
) -> list[ScoredInterval]:
    """One interval per match: ``length`` seconds centred at ``time + shift``, clipped to
    ``[0, duration]`` (module docstring, step 5, before the threshold)."""
    if not length > 0:
        raise ValueError(f"interval length must be > 0 seconds, got {length}")
    out = []
    for m in matches:
        centre = m.time + shift
        start = min(max(0.0, centre - length / 2), duration)
        end = max(min(duration, centre + length / 2), start)
        out.append(ScoredInterval(Segment(m.step, round(start, 3), round(end, 3)), m.score))
    return out


_LOADED: dict[str, TextEncoder] = {}


def _encoder(folder: str) -> TextEncoder:
    """Load an encoder once per process."""
    if folder not in _LOADED:
        _LOADED[folder] = load_encoder(folder)
    return _LOADED[folder]


# --------------------------------------------------------------------------------------------
# The pipeline


@dataclass(frozen=True)
class _Job:
    encoder: str
    task_id: str
    video_id: str
    steps: tuple[str, ...]
    words: tuple[tuple[str, float, float], ...]
    duration: float
    window: int
    stride: int
    out: str
    single_thread: bool


def _match_job(job: _Job) -> str:
    """Worker: match one video and write its matches file; returns the status."""
    if job.single_thread:
        import torch

        torch.set_num_threads(1)
    words = [TimedWord(*w) for w in job.words]
    n_windows = math.ceil(len(words) / job.stride)
    if n_windows < len(job.steps):
        result = VideoMatches(
            job.task_id,
            job.video_id,
            "too-short",
            job.duration,
            len(words),
            note=f"{n_windows} windows for {len(job.steps)} steps",
        )
    else:
        matches = match_steps(
            words, job.steps, _encoder(job.encoder), window=job.window, stride=job.stride
        )
        result = VideoMatches(
            job.task_id, job.video_id, "ok", job.duration, len(words), matches=matches
        )
    atomic_write_json(job.out, result.to_json())
    return result.status


@dataclass
class ConstraintRun:
    """What :func:`build_constraints` did (also written to ``OUT/config.json``)."""

    out: Path
    config: dict[str, Any]
    threshold: float
    validation: dict[str, float] | None
    status: dict[str, int]
    written: int
    matched_now: int


def _duration(data: CrossTaskData, vid: str, words: Sequence[TimedWord]) -> float:
    try:
        return float(data.n_frames(vid))
    except CrossTaskFormatError:
        return max((w.end for w in words), default=0.0)


def _check_out(out: Path, config: dict[str, Any]) -> None:
    path = out / "config.json"
    if not path.is_file():
        return
    old = json.loads(path.read_text(encoding="utf-8"))
    differ = {k: (old.get(k), config[k]) for k in _MATCH_KEYS if old.get(k) != config[k]}
    if differ:
        desc = ", ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in differ.items())
        raise ValueError(
            f"{out} holds constraints made with other matching parameters ({desc}); "
            "use another --out or delete it"
        )


def build_constraints(
    data: CrossTaskData,
    subtitles: PathLike,
    out: PathLike,
    *,
    text: str = "tfidf",
    window: int = DEFAULT_WINDOW,
    stride: int | None = None,
    length: float = DEFAULT_LENGTH,
    shift: float = 0.0,
    threshold: float | None = None,
    text_model: PathLike | None = None,
    task_ids: Iterable[str] | None = None,
    jobs: int = 1,
    random_state: int = 0,
    progress: ProgressCallback | None = None,
) -> ConstraintRun:
    """Narration constraints for the videos of ``data`` (module docstring); resumable.

    Args:
        data: the dataset (task cards, videos; features only for each video's length).
        subtitles: folder of per-video subtitle files, or one HowTo100M caption JSON.
        out: output folder (created).
        text: representation, one of :data:`~instructvid.text.embed.ENCODERS`.
        window: words per window.
        stride: words between window centres (default: :func:`default_stride`).
        length: interval length (s). shift: added to each interval's centre (s).
        threshold: similarity threshold; ``None`` = chosen on the validation videos
            (``videos_val.csv``) to maximise F1 (keep all when they have no annotation).
        text_model: the trained model folder for ``text="learned"``.
        task_ids: restrict to these tasks (default: every task of ``videos.csv``).
        jobs: worker processes for the matching.
        random_state: seed of the fitted representations (FastText).
        progress: ``progress(done, total)`` over the videos to match.
    """
    out = Path(out)
    stride = default_stride(text) if stride is None else stride
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got {window}, {stride}")
    config = {
        "text": text,
        "window": window,
        "stride": stride,
        "text_model": str(Path(text_model).resolve()) if text_model is not None else None,
        "length": length,
        "shift": shift,
    }
    _check_out(out, config)
    out.mkdir(parents=True, exist_ok=True)
    pairs = list(data.iter_videos(task_ids))
    words, problems = read_corpus(subtitles, [v for _, v in pairs])
    encoder_dir = fit_encoder(
        text, words, out / "encoder", window=window, text_model=text_model,
        random_state=random_state,
    )  # fmt: skip
    atomic_write_json(out / "config.json", {**config, "status": "matching"})

    match_dir = out / "matches"
    todo: list[_Job] = []
    for task_id, vid in pairs:
        path = safe_join(match_dir, f"{task_id}_{vid}.json")
        if path.is_file():
            continue
        ws = words.get(vid)
        if ws is None or not ws:
            status = "empty" if ws is not None else problems[vid].split(":")[0]
            atomic_write_json(
                path,
                VideoMatches(task_id, vid, status, _duration(data, vid, ws or []), 0,
                             note=problems.get(vid, "")).to_json(),
            )  # fmt: skip
            continue
        todo.append(
            _Job(
                encoder=str(encoder_dir),
                task_id=task_id,
                video_id=vid,
                steps=data.task(task_id).steps,
                words=tuple((w.word, w.start, w.end) for w in ws),
                duration=_duration(data, vid, ws),
                window=window,
                stride=stride,
                out=str(path),
                single_thread=jobs > 1 and text in ("minilm", "learned"),
            )
        )
    missing = sum(1 for p in problems.values() if p == "missing")
    if missing:
        warnings.warn(
            f"{missing} of {len(pairs)} videos have no subtitle file in {subtitles}; "
            "they get no constraints",
            SubtitleSkippedWarning,
            stacklevel=2,
        )
    from instructvid.parallel import parallel_map

    parallel_map(
        _match_job,
        todo,
        workers=jobs,
        progress=progress,
        describe=lambda j: f"video {j.video_id} of task {j.task_id}",
    )

    results = {
        (t, v): VideoMatches.from_json(
            json.loads(safe_join(match_dir, f"{t}_{v}.json").read_text(encoding="utf-8"))
        )
        for t, v in pairs
    }
    candidates = {
        key: intervals_from_matches(r.matches, r.duration, length=length, shift=shift)
        for key, r in results.items()
    }
    validation = None
    if threshold is None:
        threshold, validation = _validation_threshold(data, candidates, task_ids)
    written = 0
    for (task_id, vid), intervals in candidates.items():
        csv = safe_join(out, f"{task_id}_{vid}.csv")
        if results[(task_id, vid)].status != "ok":
            if csv.exists():
                csv.unlink()
            continue
        write_segments(csv, [i.segment for i in intervals if i.score >= threshold])
        written += 1
    status: dict[str, int] = {}
    for r in results.values():
        status[r.status] = status.get(r.status, 0) + 1
    for r in results.values():
        if r.status == "too-short":
            warnings.warn(
                f"video {r.video_id} of task {r.task_id}: {r.note}; no constraints",
                SubtitleSkippedWarning,
                stacklevel=2,
            )
    summary = {
        **config,
        "status": "done",
        "threshold": threshold,
        "threshold_chosen_on_validation": validation is not None,
        "validation": validation,
        "videos": status,
        "csv_written": written,
    }
    atomic_write_json(out / "config.json", summary)
    return ConstraintRun(out, config, threshold, validation, status, written, len(todo))


def _validation_threshold(
    data: CrossTaskData,
    candidates: Mapping[tuple[str, str], Sequence[ScoredInterval]],
    task_ids: Iterable[str] | None,
) -> tuple[float, dict[str, float] | None]:
    wanted = set(task_ids) if task_ids is not None else None
    videos = []
    for task_id, vids in data.val_videos.items():
        if wanted is not None and task_id not in wanted:
            continue
        for vid in vids:
            if (task_id, vid) in candidates and data.has_annotation(task_id, vid):
                videos.append((candidates[(task_id, vid)], data.ground_truth(task_id, vid)))
    if not videos:
        warnings.warn(
            "no annotated validation video to choose the threshold on; every step keeps its "
            "interval (give --threshold to set one)",
            stacklevel=3,
        )
        return -math.inf, None
    threshold, scores = select_threshold(videos)
    return threshold, {**scores, "n_videos": len(videos)}


def load_matches(out: PathLike, task_id: str, video_id: str) -> VideoMatches:
    """The matches file of a video written by :func:`build_constraints`
    (``OUT/matches/<task>_<video>.json``, confined to that folder)."""
    path = safe_join(Path(out) / "matches", f"{task_id}_{video_id}.json")
    return VideoMatches.from_json(json.loads(path.read_text(encoding="utf-8")))
