"""Subtitles: WebVTT cues (narration with times in seconds).

A WebVTT file is a ``WEBVTT`` header line, a blank line, then cue blocks separated by blank
lines::

    WEBVTT

    00:00:01.250 --> 00:00:03.000
    now we are going to add flour

A cue block may start with an identifier line; its timing line is ``start --> end`` with times
``HH:MM:SS.mmm`` (``MM:SS.mmm`` is accepted when reading), optionally followed by cue settings;
the text is the remaining lines of the block. Times are **seconds** (floats) in :class:`Cue`.

This module currently reads plain cues only (``NOTE``/``STYLE``/``REGION`` blocks are skipped,
inline tags are kept verbatim); YouTube word timings and SRT come later.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from instructvid.io.atomic import atomic_open

__all__ = ["Cue", "SubtitleFormatError", "format_timestamp", "read_webvtt", "write_webvtt"]

PathLike = str | os.PathLike[str]

_TIMESTAMP = r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})"
_TIMING = re.compile(rf"^\s*{_TIMESTAMP}\s+-->\s+{_TIMESTAMP}(?:\s+.*)?$")


class SubtitleFormatError(ValueError):
    """A subtitle file does not have the expected content (names the file and the line)."""

    def __init__(self, path: PathLike, problem: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}" if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: ``text`` shown from ``start`` to ``end`` seconds.

    Attributes:
        start: start time in seconds (>= 0).
        end: end time in seconds (>= start).
        text: the cue text; lines are separated by ``"\\n"``.
    """

    start: float
    end: float
    text: str


def format_timestamp(seconds: float) -> str:
    """``HH:MM:SS.mmm`` for a time in seconds (rounded to the millisecond).

    >>> format_timestamp(3661.5)
    '01:01:01.500'
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a timestamp must be a finite number of seconds >= 0, got {seconds!r}")
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def write_webvtt(path: PathLike, cues: Iterable[Cue]) -> Path:
    """Write cues as a WebVTT file (atomically); returns ``path``.

    Args:
        path: the ``.vtt`` file to write.
        cues: cues with times in seconds; written in the given order.

    Raises:
        ValueError: a negative, non-finite or reversed time, an empty text, or a text holding a
            blank line or ``-->`` (either would end or corrupt the cue block).
    """
    blocks = ["WEBVTT\n"]
    for index, cue in enumerate(cues):
        if not (math.isfinite(cue.start) and math.isfinite(cue.end)):
            raise ValueError(f"cue {index}: times must be finite, got {cue.start!r}, {cue.end!r}")
        if cue.start < 0 or cue.end < cue.start:
            raise ValueError(
                f"cue {index}: expected 0 <= start <= end seconds, got {cue.start!r}, {cue.end!r}"
            )
        lines = cue.text.split("\n")
        if not cue.text.strip() or any(not line.strip() for line in lines) or "-->" in cue.text:
            raise ValueError(
                f"cue {index}: text must be non-empty, without blank lines or '-->': {cue.text!r}"
            )
        blocks.append(
            f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}\n{cue.text}\n"
        )
    with atomic_open(path, "w") as handle:
        handle.write("\n".join(blocks))
    return Path(path)


def read_webvtt(path: PathLike) -> list[Cue]:
    """Read the cues of a WebVTT file, in file order (times in seconds).

    Raises:
        SubtitleFormatError: missing file, no ``WEBVTT`` header, a cue block without a timing
            line, a malformed timestamp, or a cue ending before it starts.
    """
    path = Path(path)
    if not path.is_file():
        raise SubtitleFormatError(path, "file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubtitleFormatError(path, f"not UTF-8 text ({exc})") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not (lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t"))):
        raise SubtitleFormatError(path, "expected the header line 'WEBVTT'", line=1)

    cues: list[Cue] = []
    i = 1
    # Skip the rest of the header block.
    while i < len(lines) and lines[i].strip():
        i += 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        start_line = i
        block: list[str] = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        first = block[0].strip()
        if first.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first:
            continue
        timing_at = 0 if "-->" in block[0] else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise SubtitleFormatError(
                path,
                "expected a timing line 'HH:MM:SS.mmm --> HH:MM:SS.mmm' in this cue block",
                line=start_line + 1,
            )
        match = _TIMING.match(block[timing_at])
        if match is None:
            raise SubtitleFormatError(
                path,
                f"malformed timing line {block[timing_at]!r}; expected "
                "'HH:MM:SS.mmm --> HH:MM:SS.mmm'",
                line=start_line + timing_at + 1,
            )
        start = _seconds(*match.groups()[:4])
        end = _seconds(*match.groups()[4:])
        if end < start:
            raise SubtitleFormatError(
                path,
                f"cue ends ({end:.3f} s) before it starts ({start:.3f} s)",
                line=start_line + timing_at + 1,
            )
        cues.append(Cue(start, end, "\n".join(block[timing_at + 1 :])))
    return cues


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    # Whole milliseconds first, one division: the nearest float to the written time.
    return (
        int(hours or 0) * 3_600_000 + int(minutes) * 60_000 + int(seconds) * 1000 + int(millis)
    ) / 1000
