"""CrossTask step CSVs (annotations and narration constraints): ``step,start,end`` per line.

Steps are 1-based; times are **seconds** (floats). A segment ``[start, end]`` covers feature
rows ``floor(start) .. ceil(end) - 1`` (one row per second; the authors' ``read_assignment``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open
from instructvid.io.crosstask.errors import CrossTaskFormatError, read_lines
from instructvid.types import PathLike

__all__ = [
    "Segment",
    "SegmentClippedWarning",
    "parse_segment_line",
    "read_segments",
    "segments_to_matrix",
    "write_segments",
]


class SegmentClippedWarning(UserWarning):
    """A step segment ran past the end of the video's features and was clipped."""


@dataclass(frozen=True)
class Segment:
    """One row of a step CSV: step ``step`` (1-based) from ``start`` to ``end`` seconds."""

    step: int
    start: float
    end: float

    def rows(self) -> range:
        """Feature rows covered: ``floor(start) .. ceil(end) - 1`` (one row per second)."""
        return range(math.floor(self.start), math.ceil(self.end))


def read_segments(path: PathLike, n_steps: int | None = None) -> list[Segment]:
    """Read a step CSV (``step,start,end``; step 1-based, times in seconds).

    Args:
        path: an annotation or constraint file.
        n_steps: K of the video's task; when given, steps outside ``1..K`` are an error.

    Raises:
        CrossTaskFormatError: wrong number of fields, non-numeric values, a step index outside
            ``1..K``, a negative or non-finite time, or ``start > end`` (first bad line).
    """
    path = Path(path)
    segments = []
    for number, line in enumerate(read_lines(path), start=1):
        if line.strip():
            segments.append(parse_segment_line(line, n_steps=n_steps, path=path, line=number))
    return segments


def parse_segment_line(
    text: str, *, n_steps: int | None = None, path: PathLike = "<segments>", line: int | None = None
) -> Segment:
    """Parse one ``step,start,end`` line; ``path`` and ``line`` only label the error message."""
    text = text.strip()
    parts = text.split(",")
    if len(parts) != 3:
        raise CrossTaskFormatError(
            path, f"expected 3 fields 'step,start,end', found {len(parts)}: {text!r}", line
        )
    try:
        step = int(parts[0])
    except ValueError:
        raise CrossTaskFormatError(
            path, f"expected an integer step index, found {parts[0]!r}", line
        ) from None
    try:
        start, end = float(parts[1]), float(parts[2])
    except ValueError:
        raise CrossTaskFormatError(
            path, f"expected start and end times in seconds, found {text!r}", line
        ) from None
    if n_steps is not None and not 1 <= step <= n_steps:
        raise CrossTaskFormatError(
            path, f"step index {step} is outside 1..{n_steps} (the task has {n_steps} steps)", line
        )
    if n_steps is None and step < 1:
        raise CrossTaskFormatError(path, f"step index {step} must be >= 1 (1-based)", line)
    if not (math.isfinite(start) and math.isfinite(end)):
        raise CrossTaskFormatError(path, f"times must be finite, found {text!r}", line)
    if start < 0 or end < 0:
        raise CrossTaskFormatError(
            path, f"times must be >= 0 seconds, found start={start:g}, end={end:g}", line
        )
    if start > end:
        raise CrossTaskFormatError(
            path, f"start ({start:g} s) is after end ({end:g} s); expected start <= end", line
        )
    return Segment(step, start, end)


def write_segments(path: PathLike, segments: Iterable[Segment]) -> Path:
    """Write a step CSV (``step,start,end``) atomically; returns ``path``."""
    with atomic_open(path, "w") as handle:
        for s in segments:
            handle.write(f"{s.step},{_fmt_time(s.start)},{_fmt_time(s.end)}\n")
    return Path(path)


def segments_to_matrix(
    segments: Sequence[Segment], n_frames: int, n_steps: int, *, source: PathLike | None = None
) -> np.ndarray:
    """Rasterise segments into a (T, K) 0/1 matrix, one row per second.

    A segment covers rows ``floor(start) .. ceil(end) - 1``; rows at or past ``T`` are clipped
    with a :class:`SegmentClippedWarning` naming ``source``.

    Args:
        segments: segments with 1-based steps in ``1..n_steps``.
        n_frames: T, the number of feature rows (seconds).
        n_steps: K.
        source: the file the segments came from (for messages).

    Returns:
        uint8 array of shape (T, K).
    """
    y = np.zeros((n_frames, n_steps), dtype=np.uint8)
    for seg in segments:
        if not 1 <= seg.step <= n_steps:
            raise CrossTaskFormatError(
                source or "<segments>", f"step index {seg.step} is outside 1..{n_steps}"
            )
        rows = seg.rows()
        if rows.stop > n_frames:
            warnings.warn(
                f"{source or '<segments>'}: step {seg.step} segment "
                f"[{seg.start:g}, {seg.end:g}] s runs past the end of the features "
                f"({n_frames} s); clipped",
                SegmentClippedWarning,
                stacklevel=2,
            )
        y[rows.start : min(rows.stop, n_frames), seg.step - 1] = 1
    return y


def _fmt_time(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text else "0"
