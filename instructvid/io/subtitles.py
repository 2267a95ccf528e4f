"""Subtitles: WebVTT, SRT and HowTo100M caption JSON → cues and timed words (seconds).

Formats read (times are **seconds**, floats, everywhere in this module):

**WebVTT** (``.vtt``): a ``WEBVTT`` header line, a blank line, then cue blocks separated by blank
lines::

    WEBVTT

    00:00:01.250 --> 00:00:03.000
    now we are going to add flour

A cue block may start with an identifier line; its timing line is ``start --> end`` with times
``HH:MM:SS.mmm`` (``MM:SS.mmm`` is accepted when reading), optionally followed by cue settings;
the text is the remaining lines of the block. ``NOTE``/``STYLE``/``REGION`` blocks are skipped.
:func:`read_webvtt` returns the cues with their text verbatim (inline tags kept).

*YouTube automatic captions* are WebVTT with inline word timings and "rolling" lines: each cue
shows the previous line again (plain) above the new one, whose words carry their start times::

    00:00:00.030 --> 00:00:02.389 align:start position:0%
    hi<00:00:00.539><c> guys</c><00:00:00.870><c> welcome</c>

    00:00:02.389 --> 00:00:02.399 align:start position:0%
    hi guys welcome

    00:00:02.399 --> 00:00:05.690 align:start position:0%
    hi guys welcome
    to<00:00:02.939><c> my</c><00:00:03.270><c> channel</c>

:func:`read_words` gives every spoken word once: in a file holding inline timestamps, a line with
timestamps is new speech (its first word starts at the cue's start, every other word at its
timestamp, each word ends where the next begins, the last at the cue's end); a line without them
is a repeat and is dropped when its text equals one of the last two lines kept (otherwise it is
kept, with times interpolated over the cue). Files without inline timestamps keep every line.

**SRT** (``.srt``): numbered blocks separated by blank lines, timing ``HH:MM:SS,mmm -->
HH:MM:SS,mmm`` (a ``.`` before the milliseconds is accepted), then the text lines::

    1
    00:00:01,000 --> 00:00:03,500
    now we are going to add flour

**HowTo100M caption JSON** (``.json``): ``{"<vid>": {"start": [s, ...], "end": [e, ...],
"text": ["...", ...]}, ...}`` (the release's ``raw_caption.json``), or one video's
``{"start": [...], "end": [...], "text": [...]}``. ASR segments of that file overlap in time; each
segment's words are spread over ``[start, min(end, next start)]``.

Words: a cue's text (tags removed, HTML entities decoded, bracketed sound annotations such as
``[Music]`` dropped) is split at white space. When the format gives no word times, the words of
a cue share its duration equally (word ``i`` of ``n`` in a cue ``[s, e]`` gets
``[s + i·(e−s)/n, s + (i+1)·(e−s)/n]``). Words are returned sorted by start time (stable).

Errors: a malformed file raises :class:`SubtitleFormatError` naming the file and, where there is
one, the line. A file without any word (empty, header only, only ``[Music]``) is not an error:
:func:`read_words` warns with :class:`EmptySubtitlesWarning` and returns ``[]``.
"""

from __future__ import annotations

import html
import json
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from instructvid.io.atomic import atomic_write_text
from instructvid.io.errors import FormatError
from instructvid.io.ids import check_id, is_valid_id, json_key_line, safe_join
from instructvid.io.text_file import read_text
from instructvid.types import PathLike

__all__ = [
    "SUBTITLE_SUFFIXES",
    "Cue",
    "EmptySubtitlesWarning",
    "SubtitleFormatError",
    "TimedWord",
    "cues_to_words",
    "find_subtitles",
    "format_timestamp",
    "read_howto100m_json",
    "read_srt",
    "read_webvtt",
    "read_words",
    "write_webvtt",
]


_TIMESTAMP = r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})"
_TIMING = re.compile(rf"^\s*{_TIMESTAMP}\s+-->\s+{_TIMESTAMP}(?:\s+.*)?$")


class SubtitleFormatError(FormatError):
    """A subtitle file does not have the expected content (names the file and the line)."""

    def __init__(self, path: PathLike, problem: str, line: int | None = None) -> None:
        super().__init__(path, problem, line=line)


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
    return atomic_write_text(path, "\n".join(blocks))


def read_webvtt(path: PathLike) -> list[Cue]:
    """Read the cues of a WebVTT file, in file order (times in seconds).

    Raises:
        SubtitleFormatError: missing file, no ``WEBVTT`` header, a cue block without a timing
            line, a malformed timestamp, or a cue ending before it starts.
    """
    path = Path(path)
    lines = _read_text(path).split("\n")
    if not lines or not (lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t"))):
        raise SubtitleFormatError(path, "expected the header line 'WEBVTT'", line=1)

    cues: list[Cue] = []
    i = 1
    # Skip the rest of the header block.
    while i < len(lines) and lines[i].strip():
        i += 1
    for start_line, block in _blocks(lines, i):
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
        cues.append(
            _timed_cue(path, block, timing_at, start_line, _TIMING, "HH:MM:SS.mmm --> HH:MM:SS.mmm")
        )
    return cues


def _blocks(lines: Sequence[str], start: int) -> Iterator[tuple[int, list[str]]]:
    """``(0-based first line, lines)`` of each cue block from line ``start`` on (WebVTT, SRT)."""
    i = start
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        first = i
        while i < len(lines) and _in_block(lines, i):
            i += 1
        yield first, list(lines[first:i])


def _in_block(lines: Sequence[str], i: int) -> bool:
    """Whether line ``i`` continues the current cue block.

    An empty line ends a block. A line of white space only (YouTube writes ``" "`` lines inside
    its cues; the WebVTT spec does not count them as blank) ends it only when an empty line, the
    end of the file or a timing line follows within two lines.
    """
    line = lines[i]
    if not line:
        return False
    if line.strip():
        return True
    following = lines[i + 1 : i + 3]
    return bool(following) and following[0] != "" and not any("-->" in x for x in following)


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    # Whole milliseconds first, one division: the nearest float to the written time.
    return (
        int(hours or 0) * 3_600_000 + int(minutes) * 60_000 + int(seconds) * 1000 + int(millis)
    ) / 1000


# --------------------------------------------------------------------------------------------
# Timed words, SRT, HowTo100M JSON

#: File suffixes :func:`read_words` knows, in the order :func:`find_subtitles` tries them.
SUBTITLE_SUFFIXES: tuple[str, ...] = (".vtt", ".en.vtt", ".srt", ".en.srt", ".json")

_SRT_TIMESTAMP = r"(\d+):(\d{2}):(\d{2})[,.](\d{3})"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIMESTAMP}\s+-->\s+{_SRT_TIMESTAMP}(?:\s+.*)?$")
_INLINE_TIME = re.compile(r"<((?:\d+:)?\d{2}:\d{2}\.\d{3})>")
_TAG = re.compile(r"<[^>]*>")
_SOUND = re.compile(r"\[[^\]]*\]")
_RECENT_LINES = 2


class EmptySubtitlesWarning(UserWarning):
    """A subtitle file holds no word: the video gets no narration constraints."""


@dataclass(frozen=True)
class TimedWord:
    """One spoken word from ``start`` to ``end`` seconds (``0 <= start <= end``)."""

    word: str
    start: float
    end: float


def _clean(text: str) -> str:
    """Text without tags and sound annotations, entities decoded."""
    return html.unescape(_SOUND.sub(" ", _TAG.sub("", text)))


def _spread(words: Sequence[str], start: float, end: float) -> list[TimedWord]:
    """Words sharing ``[start, end]`` equally, in order."""
    n = len(words)
    step = (end - start) / n if n else 0.0
    return [
        TimedWord(w, start + i * step, end if i == n - 1 else start + (i + 1) * step)
        for i, w in enumerate(words)
    ]


def cues_to_words(cues: Iterable[Cue]) -> list[TimedWord]:
    """Words of plain cues, each cue's duration shared equally among its words.

    Tags are removed, entities decoded and bracketed sound annotations (``[Music]``) dropped.
    The result is sorted by start time (stable).
    """
    words: list[TimedWord] = []
    for cue in cues:
        words.extend(_spread(_clean(cue.text).split(), cue.start, cue.end))
    words.sort(key=lambda w: w.start)
    return words


def _timed_line(line: str, start: float, end: float) -> list[TimedWord]:
    """Words of a line with inline ``<HH:MM:SS.mmm>`` timestamps (YouTube word timings)."""
    pieces = _INLINE_TIME.split(line)  # text, time, text, time, ...
    timed: list[tuple[str, float]] = []
    at = start
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            match = re.fullmatch(_TIMESTAMP, piece)
            assert match is not None  # guaranteed by _INLINE_TIME
            at = min(max(_seconds(*match.groups()), start), end)
            continue
        for word in _clean(piece).split():
            timed.append((word, at))
    out = []
    for i, (word, t0) in enumerate(timed):
        t1 = timed[i + 1][1] if i + 1 < len(timed) else end
        out.append(TimedWord(word, t0, max(t0, t1)))
    return out


def _webvtt_words(cues: Sequence[Cue]) -> list[TimedWord]:
    """Words of WebVTT cues; YouTube rolling lines de-duplicated (module docstring)."""
    if not any(_INLINE_TIME.search(cue.text) for cue in cues):
        return cues_to_words(cues)
    words: list[TimedWord] = []
    recent: list[str] = []
    for cue in cues:
        for line in cue.text.split("\n"):
            plain = " ".join(_clean(line).split())
            if not plain:
                continue
            if _INLINE_TIME.search(line):
                words.extend(_timed_line(line, cue.start, cue.end))
            elif plain in recent:
                continue
            else:
                words.extend(_spread(plain.split(), cue.start, cue.end))
            recent = [*recent, plain][-_RECENT_LINES:]
    words.sort(key=lambda w: w.start)
    return words


def read_srt(path: PathLike) -> list[Cue]:
    """Read the cues of an SRT file, in file order (times in seconds).

    Raises:
        SubtitleFormatError: missing or non-UTF-8 file, a block without a timing line, a
            malformed timestamp, or a cue ending before it starts (with the line number).
    """
    path = Path(path)
    lines = _read_text(path).split("\n")
    cues: list[Cue] = []
    for start_line, block in _blocks(lines, 0):
        timing_at = 0 if "-->" in block[0] else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise SubtitleFormatError(
                path,
                "expected a timing line 'HH:MM:SS,mmm --> HH:MM:SS,mmm' in this subtitle block",
                line=start_line + 1,
            )
        if timing_at == 1 and not block[0].strip().isdigit():
            raise SubtitleFormatError(
                path,
                f"expected a cue number or a timing line, found {block[0].strip()!r}",
                line=start_line + 1,
            )
        cues.append(
            _timed_cue(
                path, block, timing_at, start_line, _SRT_TIMING, "HH:MM:SS,mmm --> HH:MM:SS,mmm"
            )
        )
    return cues


def _timed_cue(
    path: PathLike,
    block: list[str],
    timing_at: int,
    start_line: int,
    pattern: re.Pattern[str],
    expected: str,
) -> Cue:
    """The cue of a block whose line ``timing_at`` is its timing line (WebVTT or SRT syntax);
    ``start_line`` is the block's 0-based first line, for the error messages."""
    match = pattern.match(block[timing_at])
    if match is None:
        raise SubtitleFormatError(
            path,
            f"malformed timing line {block[timing_at]!r}; expected '{expected}'",
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
    return Cue(start, end, "\n".join(block[timing_at + 1 :]))


def read_howto100m_json(path: PathLike, video_id: str | None = None) -> dict[str, list[Cue]]:
    """Read HowTo100M caption JSON: ``{vid: {"start": [...], "end": [...], "text": [...]}}``.

    Args:
        path: the JSON file (all videos, or one video's ``{"start", "end", "text"}`` object,
            which is returned under the file's stem, or under ``video_id`` when given).
        video_id: read only this video (a missing one gives ``{}``).

    Returns:
        ``{video_id: [Cue, ...]}``; each segment's end is cut at the next segment's start when
        they overlap (the release's ASR segments do), so that words are spread over the time
        the segment is actually the newest speech.

    Raises:
        SubtitleFormatError: invalid JSON (with its line), or a video whose entry is not an
            object of three equally long lists of numbers / strings, or with ``end < start``.
        FormatError: a video id (a key of the file) that is not a valid id
            (:func:`instructvid.io.ids.check_id`), with its line.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubtitleFormatError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(data, dict):
        raise SubtitleFormatError(path, "expected a JSON object {video_id: {start, end, text}}")
    if {"start", "end", "text"} <= set(data) and not isinstance(data.get("text"), dict):
        data = {video_id or _stem(path): data}
    wanted = [video_id] if video_id is not None else list(data)
    out: dict[str, list[Cue]] = {}
    for vid in wanted:
        if vid not in data:
            continue
        if not is_valid_id(vid):
            check_id(vid, path=path, line=json_key_line(text, vid), what="video id")
        out[vid] = _howto_cues(path, vid, data[vid])
    return out


def _howto_cues(path: Path, vid: str, entry: object) -> list[Cue]:
    if not isinstance(entry, dict) or not {"start", "end", "text"} <= set(entry):
        raise SubtitleFormatError(
            path, f"video {vid}: expected an object with lists 'start', 'end' and 'text'"
        )
    starts, ends, texts = entry["start"], entry["end"], entry["text"]
    if not all(isinstance(x, list) for x in (starts, ends, texts)):
        raise SubtitleFormatError(path, f"video {vid}: 'start', 'end' and 'text' must be lists")
    if not len(starts) == len(ends) == len(texts):
        raise SubtitleFormatError(
            path,
            f"video {vid}: 'start', 'end' and 'text' have different lengths "
            f"({len(starts)}, {len(ends)}, {len(texts)})",
        )
    cues: list[Cue] = []
    for i, (s, e, t) in enumerate(zip(starts, ends, texts, strict=True)):
        if isinstance(s, bool) or isinstance(e, bool) or not isinstance(s, int | float):
            raise SubtitleFormatError(
                path, f"video {vid}, segment {i}: start {s!r} is not a number"
            )
        if not isinstance(e, int | float):
            raise SubtitleFormatError(path, f"video {vid}, segment {i}: end {e!r} is not a number")
        if not isinstance(t, str):
            raise SubtitleFormatError(path, f"video {vid}, segment {i}: text {t!r} is not a string")
        if not (math.isfinite(s) and math.isfinite(e)) or s < 0 or e < s:
            raise SubtitleFormatError(
                path, f"video {vid}, segment {i}: expected 0 <= start <= end, got {s!r}, {e!r}"
            )
        cues.append(Cue(float(s), float(e), t))
    trimmed = []
    for i, cue in enumerate(cues):
        end = cue.end
        if i + 1 < len(cues) and cue.start < cues[i + 1].start < end:
            end = cues[i + 1].start
        trimmed.append(Cue(cue.start, end, cue.text))
    return trimmed


def read_words(path: PathLike, *, video_id: str | None = None) -> list[TimedWord]:
    """The spoken words of a subtitle file, once each, sorted by start time (seconds).

    The format follows the suffix: ``.vtt`` (WebVTT, YouTube word timings and rolling lines
    handled), ``.srt``, ``.json`` (HowTo100M captions; ``video_id`` picks the video, default the
    file's stem).

    Warns:
        EmptySubtitlesWarning: the file holds no word (empty, header only, sound annotations
            only, or the video is not in the JSON); ``[]`` is returned.

    Raises:
        SubtitleFormatError: missing or malformed file (with its line), unknown suffix.
    """
    path = Path(path)
    name = path.name.lower()
    if not path.is_file():
        raise SubtitleFormatError(path, "file not found")
    is_json = name.endswith(".json")
    if path.stat().st_size == 0 or (not is_json and not _read_text(path).strip()):
        words: list[TimedWord] = []
    elif name.endswith(".vtt"):
        words = _webvtt_words(read_webvtt(path))
    elif name.endswith(".srt"):
        words = cues_to_words(read_srt(path))
    elif is_json:
        vid = video_id or _stem(path)
        words = cues_to_words(read_howto100m_json(path, vid).get(vid, []))
    else:
        raise SubtitleFormatError(
            path, "unknown subtitle format: expected a .vtt, .srt or .json (HowTo100M) file"
        )
    if not words:
        warnings.warn(
            f"{path}: no words in the subtitles; no narration constraints for this video",
            EmptySubtitlesWarning,
            stacklevel=2,
        )
    return words


def find_subtitles(folder: PathLike, video_id: str) -> Path | None:
    """The subtitle file of ``video_id`` in ``folder`` (first of ``<vid>`` + each suffix of
    :data:`SUBTITLE_SUFFIXES`), or ``None``.

    Raises:
        UnsafePathError: a candidate path leaves ``folder`` (an id like ``../x``, or a symlink
            pointing elsewhere; :func:`instructvid.io.ids.safe_join`).
    """
    folder = Path(folder)
    for suffix in SUBTITLE_SUFFIXES:
        candidate = safe_join(folder, f"{video_id}{suffix}")
        if candidate.is_file():
            return candidate
    return None


def _stem(path: Path) -> str:
    """The video id a per-video file is named after (``abc.en.vtt`` → ``abc``)."""
    name = path.name
    for suffix in sorted(SUBTITLE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _read_text(path: Path) -> str:
    """The text of a subtitle file, byte-order mark dropped, newlines made ``\\n``."""
    text = read_text(path, SubtitleFormatError, encoding="utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")
