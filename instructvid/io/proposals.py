"""Temporal action proposals in the ActivityNet JSON layout.

Layout (the one ActivityNet's ``Evaluation/eval_proposal.py`` reads)::

    {"version": "instructvid-actionness-1",
     "results": {"<video_id>": [{"segment": [start, end], "score": 0.93}, ...], ...},
     "external_data": {}}

Times are **seconds**; a higher score means a more confident proposal. Bad input raises
:class:`ProposalFormatError`, naming the file, the video and the proposal index. Video ids (the
keys of ``"results"``) are untrusted and checked with :func:`instructvid.io.ids.check_id`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.errors import FormatError
from instructvid.io.ids import check_id, is_valid_id, json_key_line
from instructvid.io.text_file import read_json_object
from instructvid.types import PathLike

__all__ = [
    "DEFAULT_VERSION",
    "ProposalFormatError",
    "VideoProposals",
    "read_proposals",
    "write_proposals",
]

DEFAULT_VERSION = "instructvid-actionness-1"


class ProposalFormatError(FormatError):
    """A proposal file does not have the expected content (names file, video, index)."""

    def __init__(self, path: PathLike, problem: str, video: str | None = None) -> None:
        super().__init__(path, problem, video=video)


@dataclass(frozen=True)
class VideoProposals:
    """The proposals of one video.

    Attributes:
        segments: float64 (n, 2), ``[start, end]`` in seconds.
        scores: float64 (n,), higher = more confident.
    """

    segments: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        seg = np.asarray(self.segments, dtype=np.float64).reshape(-1, 2)
        sc = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        if seg.shape[0] != sc.shape[0]:
            raise ValueError(f"{seg.shape[0]} segments but {sc.shape[0]} scores")
        object.__setattr__(self, "segments", seg)
        object.__setattr__(self, "scores", sc)

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def read_proposals(path: PathLike) -> tuple[str, dict[str, VideoProposals]]:
    """Read an ActivityNet-style proposal file.

    Returns:
        ``(version, {video_id: VideoProposals})``.

    Raises:
        FormatError: a video id that is not a valid id (``../x``, ``a/b``, ...), with its line.
        ProposalFormatError: missing/unreadable file, missing ``"results"`` object, a video whose
            value is not a list, a proposal without ``"segment": [start, end]`` (finite,
            ``start <= end``) or without a finite numeric ``"score"``.
    """
    path = Path(path)
    text, data = read_json_object(
        path,
        ProposalFormatError,
        missing="file not found (expected an ActivityNet proposal JSON)",
        key="results",
        expected='expected a top-level object with a "results" object {video_id: [proposals]}',
    )
    version = str(data.get("version", ""))
    out: dict[str, VideoProposals] = {}
    for vid, items in data["results"].items():
        if not is_valid_id(vid):
            check_id(vid, path=path, line=json_key_line(text, vid), what="video id")
        if not isinstance(items, list):
            raise ProposalFormatError(
                path, f"expected a list of proposals, found {type(items).__name__}", vid
            )
        segs = np.empty((len(items), 2), dtype=np.float64)
        scores = np.empty(len(items), dtype=np.float64)
        for i, item in enumerate(items):
            seg = item.get("segment") if isinstance(item, dict) else None
            if (
                not isinstance(seg, list | tuple)
                or len(seg) != 2
                or not all(_finite_number(x) for x in seg)
            ):
                raise ProposalFormatError(
                    path,
                    f"proposal {i}: expected 'segment': [start, end] seconds, found {seg!r}",
                    vid,
                )
            if seg[0] > seg[1]:
                raise ProposalFormatError(
                    path, f"proposal {i}: start {seg[0]:g} is after end {seg[1]:g}", vid
                )
            score = item.get("score")
            if not _finite_number(score):
                raise ProposalFormatError(
                    path, f"proposal {i}: expected a finite numeric 'score', found {score!r}", vid
                )
            segs[i] = seg
            scores[i] = score
        out[str(vid)] = VideoProposals(segs, scores)
    return version, out


def write_proposals(
    path: PathLike,
    proposals: Mapping[str, VideoProposals],
    *,
    version: str = DEFAULT_VERSION,
    external_data: Mapping[str, Any] | None = None,
) -> Path:
    """Write proposals in the ActivityNet layout (atomically), best score first per video."""
    results: dict[str, list[dict[str, Any]]] = {}
    for vid, p in proposals.items():
        order = np.argsort(-p.scores, kind="stable")
        results[vid] = [
            {
                "segment": [round(float(p.segments[i, 0]), 3), round(float(p.segments[i, 1]), 3)],
                "score": float(p.scores[i]),
            }
            for i in order
        ]
    return atomic_write_json(
        path,
        {"version": version, "results": results, "external_data": dict(external_data or {})},
        indent=None,
    )


def _finite_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
