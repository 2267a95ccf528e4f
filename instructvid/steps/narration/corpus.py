"""The narration corpus: timed subtitle words of a dataset's videos, and that corpus as texts.

Subtitles come as a folder of per-video files (``<vid>.vtt``, ``.en.vtt``, ``.srt``, ``.json``) or
as one HowTo100M caption JSON holding all videos (readers in :mod:`instructvid.io.subtitles`).
A video whose file is missing or malformed is reported, not fatal: :func:`read_corpus` says why
per video and warns with :class:`SubtitleSkippedWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from instructvid.io.subtitles import (
    SubtitleFormatError,
    TimedWord,
    cues_to_words,
    find_subtitles,
    read_howto100m_json,
    read_words,
)
from instructvid.types import PathLike

__all__ = [
    "SubtitleSkippedWarning",
    "corpus_sentences",
    "read_all_words",
    "read_corpus",
]


class SubtitleSkippedWarning(UserWarning):
    """A video's subtitles could not be used (missing, malformed, too short)."""


def read_corpus(
    subtitles: PathLike, video_ids: Iterable[str]
) -> tuple[dict[str, list[TimedWord]], dict[str, str]]:
    """Timed words of the given videos.

    Args:
        subtitles: a folder of per-video files (``<vid>.vtt``, ``.en.vtt``, ``.srt``, ``.json``)
            or one HowTo100M caption JSON holding all videos.
        video_ids: the wanted videos.

    Returns:
        ``(words, problems)``: ``{vid: words}`` for videos with readable subtitles (possibly
        ``[]`` when empty, with an :class:`~instructvid.io.subtitles.EmptySubtitlesWarning`), and
        ``{vid: "missing" | "malformed: <error>"}`` for the others (each malformed file is also
        reported with a :class:`SubtitleSkippedWarning` naming the file and line).
    """
    subtitles = Path(subtitles)
    words: dict[str, list[TimedWord]] = {}
    problems: dict[str, str] = {}
    wanted = list(dict.fromkeys(video_ids))
    if subtitles.is_file():
        try:
            cues = read_howto100m_json(subtitles)
        except SubtitleFormatError as exc:
            raise SubtitleFormatError(exc.path, exc.problem, exc.line) from None
        for vid in wanted:
            if vid in cues:
                words[vid] = cues_to_words(cues[vid])
            else:
                problems[vid] = "missing"
        return words, problems
    if not subtitles.is_dir():
        raise FileNotFoundError(f"{subtitles}: no such subtitle folder or caption file")
    for vid in wanted:
        path = find_subtitles(subtitles, vid)
        if path is None:
            problems[vid] = "missing"
            continue
        try:
            words[vid] = read_words(path, video_id=vid)
        except SubtitleFormatError as exc:
            problems[vid] = f"malformed: {exc}"
            warnings.warn(f"skipped: {exc}", SubtitleSkippedWarning, stacklevel=2)
    return words, problems


def read_all_words(subtitles: PathLike) -> dict[str, list[TimedWord]]:
    """Timed words of every video of a subtitle folder (files named ``<vid>.<suffix>``) or of a
    HowTo100M caption JSON; unreadable files are skipped with a warning (:func:`read_corpus`)."""
    subtitles = Path(subtitles)
    if subtitles.is_file():
        return {vid: cues_to_words(c) for vid, c in read_howto100m_json(subtitles).items()}
    if not subtitles.is_dir():
        raise FileNotFoundError(f"{subtitles}: no such subtitle folder or caption file")
    vids = sorted({p.name.split(".")[0] for p in subtitles.iterdir() if p.is_file()})
    return read_corpus(subtitles, vids)[0]


def corpus_sentences(corpus: Mapping[str, Sequence[TimedWord]], size: int = 20) -> list[str]:
    """The corpus cut into ``size``-word texts (subtitles have no punctuation to split at)."""
    return [c for ws in corpus.values() for c in _chunks(ws, size)]


def _chunks(words: Sequence[TimedWord], size: int) -> list[str]:
    return [" ".join(w.word for w in words[i : i + size]) for i in range(0, len(words), size)]
