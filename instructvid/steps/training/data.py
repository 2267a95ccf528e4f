"""The training set of the step model: its videos (:class:`TrainVideo`) and their features.

:func:`build_training_videos` reads a CrossTask dataset's narration constraints (and, for the
supervised topline, ground truth) for ``{task_id: [video_id, ...]}``. :class:`FeatureStore`
reads each video's (T, d) ``.npy`` features (one row per second) from memory-mapped files, up
to ``cache_bytes`` of them kept in memory between epochs (the rest is re-read each epoch), so
the peak memory is bounded by the cache plus one batch, whatever the dataset size.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError, open_features

__all__ = ["CONSTRAINT_MODES", "FeatureStore", "TrainVideo", "build_training_videos"]

#: How narration constraints enter training: λ·C penalty (authors), forbidden cells, or ignored.
CONSTRAINT_MODES: tuple[str, ...] = ("penalty", "hard", "none")


@dataclass(frozen=True)
class TrainVideo:
    """One training video.

    Attributes:
        task_id, video_id: identifiers.
        path: its (T, d) ``.npy`` features, one row per second.
        n_frames: T.
        n_steps: K of its task.
        allowed: (T, K) uint8, 1 inside step k's narration interval; ``None`` = unconstrained.
        target: (T, K) uint8 ground truth, for supervised training only.
    """

    task_id: str
    video_id: str
    path: Path
    n_frames: int
    n_steps: int
    allowed: np.ndarray | None = None
    target: np.ndarray | None = None


def build_training_videos(
    data: CrossTaskData,
    videos: Mapping[str, Sequence[str]],
    *,
    constraints: str = "penalty",
    supervised: bool = False,
) -> list[TrainVideo]:
    """The :class:`TrainVideo` list of ``{task_id: [video_id, ...]}``.

    Constraint files are read unless ``constraints == "none"``; a video without one is
    unconstrained (one warning gives their number). Videos shorter than their task's K seconds
    are skipped with a warning. With ``supervised`` the ground truth is read (videos without an
    annotation are skipped).
    """
    if constraints not in CONSTRAINT_MODES:
        raise ValueError(f"constraints must be one of {CONSTRAINT_MODES}, got {constraints!r}")
    out: list[TrainVideo] = []
    missing_constraints = 0
    too_short: list[str] = []
    for task_id in sorted(videos):
        n_steps = data.task(task_id).n_steps
        for vid in videos[task_id]:
            try:
                n_frames = data.check_length(task_id, vid)
            except CrossTaskFormatError:
                too_short.append(vid)
                continue
            allowed = None
            if constraints != "none":
                if data.has_constraints(task_id, vid):
                    allowed = data.constraints(task_id, vid)
                else:
                    missing_constraints += 1
            target = None
            if supervised:
                if not data.has_annotation(task_id, vid):
                    continue
                target = data.ground_truth(task_id, vid)
            out.append(
                TrainVideo(
                    task_id=task_id,
                    video_id=vid,
                    path=data.paths.feature(vid),
                    n_frames=n_frames,
                    n_steps=n_steps,
                    allowed=allowed,
                    target=target,
                )
            )
    if missing_constraints:
        warnings.warn(
            f"{missing_constraints} training video(s) have no narration-constraint file; "
            "they are trained without constraints",
            stacklevel=2,
        )
    if too_short:
        warnings.warn(
            f"{len(too_short)} video(s) are shorter than their task's number of steps and are "
            f"skipped: {', '.join(too_short[:5])}{' …' if len(too_short) > 5 else ''}",
            stacklevel=2,
        )
    return out


class FeatureStore:
    """Per-video features read from memory-mapped files, with a bounded in-memory cache.

    Args:
        paths: one ``.npy`` path per video.
        cache_bytes: at most this many bytes of features are kept between calls (first come,
            first kept); others are re-read from disk each time. 0 disables the cache.

    A file is mapped only while it is read, so mapped pages never accumulate in the resident
    set: peak memory ≈ ``cache_bytes`` + the arrays a caller holds.
    """

    def __init__(self, paths: Sequence[Path], *, cache_bytes: int = 1 << 30) -> None:
        self.paths = list(paths)
        self.cache_bytes = int(cache_bytes)
        self._cache: dict[int, np.ndarray] = {}
        self._used = 0

    def full(self, i: int) -> np.ndarray:
        """(T, d) float32 features of video ``i``."""
        hit = self._cache.get(i)
        if hit is not None:
            return hit
        mapped = open_features(self.paths[i])
        arr = np.array(mapped, dtype=np.float32)
        del mapped
        if self._fits(arr.nbytes):
            self._cache[i] = arr
            self._used += arr.nbytes
        return arr

    def rows(self, i: int, rows: np.ndarray) -> np.ndarray:
        """(len(rows), d) float32 features of some seconds of video ``i``.

        A video the cache can still hold is read whole (and kept); otherwise only ``rows``
        are read from the file.
        """
        hit = self._cache.get(i)
        if hit is not None:
            return hit[rows]
        mapped = open_features(self.paths[i])
        n_frames, dim = mapped.shape
        if self._fits(n_frames * dim * np.dtype(np.float32).itemsize):
            del mapped
            return self.full(i)[rows]
        arr = np.array(mapped[np.asarray(rows)], dtype=np.float32)
        del mapped
        return arr

    def _fits(self, nbytes: int) -> bool:
        """Whether ``nbytes`` more of features stay within the cache's budget."""
        return self._used + nbytes <= self.cache_bytes

    def dim(self) -> int:
        """d, from the first file's header."""
        return int(open_features(self.paths[0]).shape[1])
