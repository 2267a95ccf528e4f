"""CrossTask video lists (``videos.csv``, ``videos_val.csv``: ``task_id,video_id,url``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from instructvid.io.atomic import atomic_open
from instructvid.io.crosstask.errors import CrossTaskFormatError, read_lines
from instructvid.io.crosstask.tasks import Task
from instructvid.io.problems import Problems
from instructvid.types import PathLike

__all__ = ["VideoEntry", "group_videos", "read_video_list", "write_video_list"]


@dataclass(frozen=True)
class VideoEntry:
    """One row of ``videos.csv``: ``task_id,video_id,url``.

    ``line`` is the row's 1-based line number in the file it was read from (None when built in
    code); it does not take part in comparisons.
    """

    task_id: str
    video_id: str
    url: str = ""
    line: int | None = field(default=None, compare=False)


def read_video_list(
    path: PathLike, *, errors: list[CrossTaskFormatError] | None = None
) -> list[VideoEntry]:
    """Read ``videos.csv`` / ``videos_val.csv`` (``task_id,video_id,url``, no header).

    Args:
        errors: when given, problems are appended to it and the bad lines skipped (a missing
            or unreadable file reads as no videos).

    Raises:
        CrossTaskFormatError: (without ``errors``) a line without at least task and video
            ids, or a repeated (task, video) pair.
    """
    path = Path(path)
    problems = Problems(errors, CrossTaskFormatError)
    try:
        lines = read_lines(path)
    except CrossTaskFormatError as exc:
        problems.add(exc)
        lines = []
    entries: list[VideoEntry] = []
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",", 2)
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            problems.report(
                path, f"expected 'task_id,video_id,url', found {line.strip()!r}", line=number
            )
            continue
        entry = VideoEntry(
            parts[0].strip(),
            parts[1].strip(),
            parts[2].strip() if len(parts) > 2 else "",
            line=number,
        )
        if not all(
            [
                problems.check_id(entry.task_id, path=path, line=number, what="task id"),
                problems.check_id(entry.video_id, path=path, line=number, what="video id"),
            ]
        ):
            continue
        key = (entry.task_id, entry.video_id)
        if key in seen:
            problems.report(
                path, f"video {entry.video_id} of task {entry.task_id} is listed twice", line=number
            )
            continue
        seen.add(key)
        entries.append(entry)
    return entries


def write_video_list(path: PathLike, entries: Iterable[VideoEntry]) -> Path:
    """Write a ``videos.csv``-format list (atomically); returns ``path``."""
    with atomic_open(path, "w") as handle:
        for e in entries:
            handle.write(f"{e.task_id},{e.video_id},{e.url}\n")
    return Path(path)


def group_videos(
    entries: Sequence[VideoEntry],
    tasks: dict[str, Task],
    source: Path,
    errors: list[CrossTaskFormatError] | None = None,
) -> dict[str, list[str]]:
    """``{task_id: [video_id, ...]}`` of a read list.

    A task id without a card raises (without ``errors``), or (with ``errors``) is reported once,
    with its number of videos, and its videos are left out.
    """
    problems = Problems(errors, CrossTaskFormatError)
    grouped: dict[str, list[str]] = {}
    unknown: dict[str, list[int]] = {}
    for number, e in enumerate(entries, start=1):
        number = e.line if e.line is not None else number
        if e.task_id not in tasks:
            if not problems.lenient:
                problems.report(
                    source, f"task id {e.task_id} is not in any task-card file", line=number
                )
            unknown.setdefault(e.task_id, []).append(number)
            continue
        grouped.setdefault(e.task_id, []).append(e.video_id)
    for task_id, numbers in unknown.items():
        more = f" ({len(numbers)} videos)" if len(numbers) > 1 else ""
        problems.report(
            source, f"task id {task_id} is not in any task-card file{more}", line=numbers[0]
        )
    return grouped
