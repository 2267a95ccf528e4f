"""The inputs of ``steps run``: task cards, the video list and the video files, checked.

``tasks.txt`` (CrossTask task cards) and ``videos.csv`` (``task_id,video_id,url``) are read with
the release readers; every id is checked (:func:`~instructvid.io.ids.check_id`) and every video
file is looked up as ``VIDEOS/<video_id>.<ext>`` inside the folder
(:func:`~instructvid.io.ids.safe_join`). What cannot run is a :class:`Problem` (the video is
skipped, the others go on); a wrong task id or a malformed file is a
:class:`~instructvid.io.errors.FormatError` naming the file and line.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from instructvid.io.crosstask import Task, read_task_cards, read_video_list
from instructvid.io.errors import FormatError
from instructvid.io.ids import check_id, safe_join
from instructvid.types import PathLike

__all__ = ["VIDEO_EXTENSIONS", "Inputs", "Problem", "read_inputs"]

#: File extensions looked for, in this order, for ``VIDEOS/<video_id>.<ext>``.
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".ts")


@dataclass(frozen=True)
class Problem:
    """A video that did not run (``skipped``) or ran with less (a warning), at ``stage``."""

    video: str
    stage: str
    reason: str
    skipped: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Inputs:
    """The checked inputs.

    Attributes:
        tasks: ``{task_id: Task}`` of ``tasks.txt``.
        videos: ``[(task_id, video_id)]`` of ``videos.csv`` whose file exists, in list order.
        files: ``{video_id: path of its video file}``.
        problems: listed videos without a file.
        fingerprint: sha256 of the task cards and the video list (what the run is about).
    """

    tasks: dict[str, Task]
    videos: list[tuple[str, str]]
    files: dict[str, Path]
    problems: list[Problem]
    fingerprint: str


def read_inputs(videos: PathLike, tasks: PathLike, video_list: PathLike) -> Inputs:
    """Read and check the inputs of ``steps run`` (module docstring).

    Raises:
        FormatError: a malformed ``tasks.txt`` or ``videos.csv``, an invalid id, a video of a task
            that ``tasks.txt`` does not have, or a video listed under two tasks.
        FileNotFoundError: a missing folder or file (named).
    """
    folder, tasks, video_list = Path(videos), Path(tasks), Path(video_list)
    if not folder.is_dir():
        raise FileNotFoundError(f"video folder not found: {folder}")
    for path in (tasks, video_list):
        if not path.is_file():
            raise FileNotFoundError(f"file not found: {path}")
    cards = read_task_cards(tasks)
    for task_id in cards:
        check_id(task_id, path=tasks, what="task id")
    entries = read_video_list(video_list)
    text = video_list.read_text(encoding="utf-8", errors="replace").splitlines()
    numbers = [n for n, raw in enumerate(text, start=1) if raw.strip()]
    seen: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    files: dict[str, Path] = {}
    problems: list[Problem] = []
    for line, entry in zip(numbers, entries, strict=False):
        check_id(entry.task_id, path=video_list, line=line, what="task id")
        check_id(entry.video_id, path=video_list, line=line, what="video id")
        if entry.task_id not in cards:
            raise FormatError(
                video_list,
                f"task {entry.task_id} of video {entry.video_id} is not in {tasks}",
                line=line,
            )
        if entry.video_id in seen:
            raise FormatError(
                video_list,
                f"video {entry.video_id} is listed under tasks {seen[entry.video_id]} and "
                f"{entry.task_id}; a video belongs to one task",
                line=line,
            )
        seen[entry.video_id] = entry.task_id
        path = _find_video(folder, entry.video_id)
        if path is None:
            problems.append(
                Problem(
                    entry.video_id,
                    "inputs",
                    f"no video file {entry.video_id}.<ext> in {folder} "
                    f"(looked for {', '.join(VIDEO_EXTENSIONS)})",
                )
            )
            continue
        out.append((entry.task_id, entry.video_id))
        files[entry.video_id] = path
    digest = hashlib.sha256(tasks.read_bytes() + b"\0" + video_list.read_bytes()).hexdigest()
    return Inputs(cards, out, files, problems, digest)


def _find_video(folder: Path, video_id: str) -> Path | None:
    for ext in VIDEO_EXTENSIONS:
        path = safe_join(folder, video_id + ext)
        if path.is_file():
            return path
    return None
