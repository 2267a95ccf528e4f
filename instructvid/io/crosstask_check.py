"""Validate a whole CrossTask-layout dataset and list every problem (``steps check``).

Unlike the readers, which stop at the first error, :func:`check_dataset` keeps going (past a
bad line of a video list or a task card whose step count disagrees with its list, which it
reads leniently) and returns all problems it finds, each naming the file, the line when there is one, and what was
expected. Features are scanned in chunks (bounded memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from instructvid.io.crosstask import (
    CrossTaskData,
    CrossTaskFormatError,
    CrossTaskPaths,
    parse_segment_line,
)
from instructvid.io.crosstask.errors import read_lines
from instructvid.io.errors import FormatError
from instructvid.types import ProgressCallback


@dataclass(frozen=True)
class Problem:
    """One finding. ``severity`` is ``"error"`` or ``"warning"``; ``line`` is 1-based."""

    severity: str
    path: Path
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.path) if self.line is None else f"{self.path}, line {self.line}"
        return f"{self.severity}: {where}: {self.message}"


def _from_error(exc: FormatError) -> Problem:
    return Problem("error", exc.path, exc.problem, exc.line)


def check_dataset(
    root: str | Path | None,
    *,
    release: str | Path | None = None,
    features: str | Path | None = None,
    constraints: str | Path | None = None,
    check_finite: bool = True,
    progress: ProgressCallback | None = None,
) -> list[Problem]:
    """Every problem of a CrossTask dataset: task cards, video lists, features, step CSVs.

    Checks: readable task cards (step counts agree with step lists), video lists naming known
    tasks, validation videos listed in ``videos.csv``, for each video a present, non-empty,
    finite (T, D) feature file with T at least the task's number of steps, annotations and
    constraints whose steps lie in 1..K with 0 <= start <= end, and segments that fit inside
    the features (a warning: they are clipped when read). Primary-task videos without an
    annotation file are reported as warnings. A task or video id that is not a valid id
    (:func:`instructvid.io.ids.check_id`: ``../x``, ``a/b``, ...) is an error naming its file and
    line, and the video (or task) is not looked at further; so is a feature, annotation or
    constraint file whose resolved path leaves its folder (a symlink elsewhere).

    Returns:
        the problems, errors and warnings, in the order found (empty when all is well).
    """
    errors: list[CrossTaskFormatError] = []
    try:
        paths = CrossTaskPaths.from_root(
            root, release=release, features=features, constraints=constraints
        )
        data = CrossTaskData.open(
            root, release=release, features=features, constraints=constraints, errors=errors
        )
    except FormatError as exc:
        # No release folder: nothing else can be checked.
        return [_from_error(exc)]
    # Problems of the cards and lists; what could be read (the listed steps of a card whose
    # count disagrees, the good lines of a list) is checked below like the rest.
    problems: list[Problem] = [_from_error(exc) for exc in errors]
    all_videos = {(t, v) for t, v in data.iter_videos()}
    for task_id, vids in data.val_videos.items():
        for vid in vids:
            if (task_id, vid) not in all_videos:
                problems.append(
                    Problem(
                        "error",
                        paths.videos_val,
                        f"validation video {vid} of task {task_id} is not in videos.csv",
                    )
                )
    pairs = sorted(all_videos)
    checked_features: dict[str, int | None] = {}
    for done, (task_id, vid) in enumerate(pairs, start=1):
        task = data.task(task_id)
        n_frames = checked_features.get(vid, -1)
        if n_frames == -1:
            try:
                n_frames = int(data.features(vid, check_finite=check_finite).shape[0])
            except FormatError as exc:
                problems.append(_from_error(exc))
                n_frames = None
            checked_features[vid] = n_frames
        if n_frames is not None and n_frames < task.n_steps:
            problems.append(
                Problem(
                    "error",
                    paths.feature(vid),
                    f"video has {n_frames} s of features but task {task_id} has "
                    f"{task.n_steps} steps; expected at least one second per step",
                )
            )
        for kind, where in (("annotation", paths.annotation), ("constraint", paths.constraint)):
            try:
                path = where(task_id, vid)
            except FormatError as exc:  # a symlink out of its folder
                problems.append(_from_error(exc))
                continue
            if not path.is_file():
                if kind == "annotation" and task_id in data.primary:
                    problems.append(
                        Problem("warning", path, "primary-task video has no annotation file")
                    )
                continue
            problems.extend(_check_step_file(path, task.n_steps, n_frames))
        if progress is not None:
            progress(done, len(pairs))
    return problems


def _check_step_file(path: Path, n_steps: int, n_frames: int | None) -> list[Problem]:
    """All problems of one step CSV (every line, not only the first bad one)."""
    problems: list[Problem] = []
    try:
        lines = read_lines(path)
    except FormatError as exc:
        return [_from_error(exc)]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            segment = parse_segment_line(line, n_steps=n_steps, path=path, line=number)
        except FormatError as exc:
            problems.append(_from_error(exc))
            continue
        if n_frames is not None and segment.rows().stop > n_frames:
            problems.append(
                Problem(
                    "warning",
                    path,
                    f"step {segment.step} segment [{segment.start:g}, {segment.end:g}] s runs "
                    f"past the end of the features ({n_frames} s); it is clipped when read",
                    number,
                )
            )
    return problems
