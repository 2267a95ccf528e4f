"""COIN annotations in the official ``COIN.json`` layout (Tang et al., CVPR 2019).

This module is the only place that knows the format. Layout::

    {"database": {
        "<youtube_id>": {
            "class": "PutOnHairExtensions",      # the task (180 in COIN)
            "recipe_type": 122,                   # the task's numeric id
            "subset": "training" | "testing",
            "duration": 185.085,                  # seconds
            "annotation": [
                {"id": "325", "segment": [25.0, 30.0], "label": "pull up the hair ..."},
                ...
            ]}}}

Times are **seconds** (floats). Extra keys are kept in :attr:`CoinVideo.extra` (the synthetic
worlds of :mod:`instructvid.synth.actionness` add ``"domain"``). A segment that runs past the
video's duration is accepted as it is (the real annotations hold one such segment); metrics clip
it to the video.

Bad input raises :class:`CoinFormatError`, naming the file, the video and what was expected.
Video ids (the database keys) are untrusted and checked with :func:`instructvid.io.ids.check_id`
(an invalid one is a :class:`~instructvid.io.errors.FormatError` naming the file and its line).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.errors import FormatError
from instructvid.io.ids import check_id, is_valid_id, json_key_line
from instructvid.io.text_file import read_json_object
from instructvid.types import PathLike

__all__ = [
    "CoinFormatError",
    "CoinSegment",
    "CoinVideo",
    "read_coin",
    "write_coin",
]


class CoinFormatError(FormatError):
    """A COIN annotation file does not have the expected content (``video``: the video
    concerned, or ``None`` for a file-level problem)."""

    def __init__(self, path: PathLike, problem: str, video: str | None = None) -> None:
        super().__init__(path, problem, video=video)


@dataclass(frozen=True)
class CoinSegment:
    """One annotated step: ``[start, end]`` seconds with its step label and id."""

    start: float
    end: float
    label: str = ""
    id: str = ""


@dataclass(frozen=True)
class CoinVideo:
    """One video of the database.

    Attributes:
        video_id: the YouTube id (the database key).
        duration: length of the video in seconds (> 0).
        subset: ``"training"``, ``"testing"`` (or any other split name).
        cls: the task name (``"class"`` in the file).
        recipe_type: the task's numeric id (``None`` when absent).
        segments: the annotated steps, in file order.
        extra: other keys of the video's entry, unchanged.
    """

    video_id: str
    duration: float
    subset: str
    cls: str
    segments: tuple[CoinSegment, ...]
    recipe_type: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def segment_array(self) -> np.ndarray:
        """Annotated segments as a float64 (n, 2) array of ``[start, end]`` seconds."""
        if not self.segments:
            return np.zeros((0, 2), dtype=np.float64)
        return np.array([[s.start, s.end] for s in self.segments], dtype=np.float64)


_KNOWN = {"class", "recipe_type", "subset", "duration", "annotation"}


def read_coin(path: PathLike, subset: str | Iterable[str] | None = None) -> dict[str, CoinVideo]:
    """Read a ``COIN.json``-layout file.

    Args:
        path: the JSON file.
        subset: keep only videos of this subset (or of any of these subsets); ``None`` keeps all.

    Returns:
        ``{video_id: CoinVideo}`` in file order.

    Raises:
        FormatError: a video id that is not a valid id (``../x``, ``a/b``, ...), with its line.
        CoinFormatError: missing or unreadable file, no ``"database"`` object, a video without a
            positive finite ``duration``, without ``subset`` or ``annotation``, a segment that is
            not two finite numbers ``[start, end]`` with ``0 <= start <= end``; or a requested
            subset that no video has.
    """
    path = Path(path)
    text, data = read_json_object(
        path,
        CoinFormatError,
        missing="file not found (expected a COIN.json-layout annotation file)",
        key="database",
        expected='expected a top-level object with a "database" object of videos',
    )
    wanted: set[str] | None
    if subset is None:
        wanted = None
    elif isinstance(subset, str):
        wanted = {subset}
    else:
        wanted = set(subset)
    videos: dict[str, CoinVideo] = {}
    subsets_seen: set[str] = set()
    for vid, entry in data["database"].items():
        if not is_valid_id(vid):
            check_id(vid, path=path, line=json_key_line(text, vid), what="video id")
        video = _parse_video(path, vid, entry)
        subsets_seen.add(video.subset)
        if wanted is None or video.subset in wanted:
            videos[video.video_id] = video
    if wanted is not None and not videos:
        raise CoinFormatError(
            path,
            f"no video in subset {sorted(wanted)}; subsets present: {sorted(subsets_seen)}",
        )
    return videos


def _parse_video(path: Path, vid: str, entry: Any) -> CoinVideo:
    if not isinstance(entry, dict):
        raise CoinFormatError(path, "expected an object with duration, subset, annotation", vid)
    duration = entry.get("duration")
    if not _is_number(duration) or not math.isfinite(duration) or duration <= 0:
        raise CoinFormatError(
            path, f"expected a positive duration in seconds, found {duration!r}", vid
        )
    subset = entry.get("subset")
    if not isinstance(subset, str) or not subset:
        raise CoinFormatError(path, f'expected a "subset" string, found {subset!r}', vid)
    annotation = entry.get("annotation")
    if not isinstance(annotation, list):
        raise CoinFormatError(
            path, f'expected an "annotation" list of steps, found {type(annotation).__name__}', vid
        )
    segments = []
    for i, ann in enumerate(annotation):
        seg = ann.get("segment") if isinstance(ann, dict) else None
        if (
            not isinstance(seg, list | tuple)
            or len(seg) != 2
            or not all(_is_number(x) and math.isfinite(x) for x in seg)
        ):
            raise CoinFormatError(
                path,
                f"annotation {i}: expected 'segment': [start, end] in seconds, found {seg!r}",
                vid,
            )
        start, end = float(seg[0]), float(seg[1])
        if start < 0 or start > end:
            raise CoinFormatError(
                path,
                f"annotation {i}: expected 0 <= start <= end, found [{start:g}, {end:g}]",
                vid,
            )
        segments.append(CoinSegment(start, end, str(ann.get("label", "")), str(ann.get("id", ""))))
    recipe = entry.get("recipe_type")
    return CoinVideo(
        video_id=vid,
        duration=float(duration),
        subset=subset,
        cls=str(entry.get("class", "")),
        segments=tuple(segments),
        recipe_type=int(recipe) if _is_number(recipe) else None,
        extra={k: v for k, v in entry.items() if k not in _KNOWN},
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def write_coin(
    path: PathLike, videos: Mapping[str, CoinVideo] | Iterable[CoinVideo], **top_level: Any
) -> Path:
    """Write videos in the ``COIN.json`` layout (atomically); returns ``path``.

    ``top_level`` keys (e.g. ``note="synthetic"``) are written beside ``"database"``.
    """
    items = videos.values() if isinstance(videos, Mapping) else videos
    database: dict[str, Any] = {}
    for v in items:
        entry: dict[str, Any] = {"class": v.cls}
        if v.recipe_type is not None:
            entry["recipe_type"] = v.recipe_type
        entry["subset"] = v.subset
        entry["duration"] = v.duration
        entry["annotation"] = [
            {"id": s.id, "segment": [s.start, s.end], "label": s.label} for s in v.segments
        ]
        entry.update(v.extra)
        database[v.video_id] = entry
    return atomic_write_json(path, {"database": database, **top_level})
