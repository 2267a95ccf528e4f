"""The CrossTask release layout: task cards, video lists, step CSVs and per-video features.

This module is the only place that knows these formats (METHOD §1.1). Layout of a ``DATA`` folder
holding the three official zips unpacked side by side::

    DATA/crosstask_release/tasks_primary.txt      task cards of the 18 annotated tasks
    DATA/crosstask_release/tasks_related.txt      task cards of the 65 related tasks
    DATA/crosstask_release/videos.csv             task_id,video_id,url (every video)
    DATA/crosstask_release/videos_val.csv         the fixed validation videos, same format
    DATA/crosstask_release/annotations/<task>_<vid>.csv     step,start,end (1-based; seconds)
    DATA/crosstask_features/<vid>.npy             float32 (T, D), one row per second
    DATA/crosstask_constraints/<task>_<vid>.csv   narration intervals, same format as annotations

A task card is five lines followed by a blank line::

    23521
    Make Jello Shots
    http://www.wikihow.com/Make-Jello-Shots
    6
    pour water,pour juice,pour jello powder,pour alcohol,stir mixture,pour mixture into cup

Units: times in step CSVs are **seconds** (floats); feature row ``t`` is second ``t``. A segment
``[start, end]`` covers rows ``floor(start) .. ceil(end) - 1`` (the authors' ``read_assignment``).

Bad input raises :class:`CrossTaskFormatError`, which names the file, the line and what was
expected. Features are opened memory-mapped and never loaded whole.

Task and video ids are untrusted: they are checked where they are read
(:func:`instructvid.io.ids.check_id`) and every path built from them goes through
:func:`instructvid.io.ids.safe_join`, which refuses one that leaves its folder.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_save_npy
from instructvid.io.errors import FormatError
from instructvid.io.ids import UnsafePathError, check_id, safe_join
from instructvid.types import PathLike

__all__ = [
    "CrossTaskData",
    "CrossTaskFormatError",
    "CrossTaskPaths",
    "Segment",
    "SegmentClippedWarning",
    "Task",
    "VideoEntry",
    "check_features",
    "open_features",
    "parse_segment_line",
    "read_segments",
    "read_task_cards",
    "read_video_list",
    "segments_to_matrix",
    "write_features",
    "write_segments",
    "write_task_cards",
    "write_video_list",
]


#: Rows checked per chunk when scanning a feature file for NaN/inf (bounded memory).
_SCAN_ROWS = 4096


class CrossTaskFormatError(FormatError):
    """A CrossTask file does not have the expected content (``path``, ``line``, ``problem``)."""

    def __init__(self, path: PathLike, problem: str, line: int | None = None) -> None:
        super().__init__(path, problem, line=line)


class SegmentClippedWarning(UserWarning):
    """A step segment ran past the end of the video's features and was clipped."""


@dataclass(frozen=True)
class Task:
    """A task card: an ordered list of step descriptions.

    Attributes:
        task_id: the task's identifier (e.g. ``"23521"``).
        title: human-readable title (``"Make Jello Shots"``).
        url: the wikiHow page the steps come from.
        steps: the K ordered step texts (``"pour water"``, ...).
    """

    task_id: str
    title: str
    url: str
    steps: tuple[str, ...]

    @property
    def n_steps(self) -> int:
        """K, the number of steps."""
        return len(self.steps)


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


@dataclass(frozen=True)
class Segment:
    """One row of a step CSV: step ``step`` (1-based) from ``start`` to ``end`` seconds."""

    step: int
    start: float
    end: float

    def rows(self) -> range:
        """Feature rows covered: ``floor(start) .. ceil(end) - 1`` (one row per second)."""
        return range(math.floor(self.start), math.ceil(self.end))


# --------------------------------------------------------------------------------------------
# Task cards


def read_task_cards(
    path: PathLike, *, errors: list[CrossTaskFormatError] | None = None
) -> dict[str, Task]:
    """Read a task-card file (``tasks_primary.txt`` / ``tasks_related.txt``).

    Args:
        errors: when given, problems are appended to it and reading goes on (``steps check``
            lists them all): a card whose count disagrees with its steps keeps the listed
            steps, empty steps are dropped, a repeated id keeps the first card, a card without
            steps is skipped, a missing or unreadable file reads as no cards.

    Returns:
        ``{task_id: Task}`` in file order.

    Raises:
        CrossTaskFormatError: (without ``errors``) missing file, truncated card, a step count
            that is not an integer or disagrees with the step list, an empty step, or a
            duplicated task id.
    """
    path = Path(path)

    def report(problem: str, line: int | None = None) -> None:
        exc = CrossTaskFormatError(path, problem, line=line)
        if errors is None:
            raise exc
        errors.append(exc)

    try:
        lines = _read_lines(path)
    except CrossTaskFormatError as exc:
        if errors is None:
            raise
        errors.append(exc)
        return {}
    tasks: dict[str, Task] = {}
    i = 0
    n = len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        if i + 5 > n:
            report(
                "truncated task card: expected 5 lines (id, title, url, number of steps, "
                f"comma-separated steps), found {n - i}",
                line=i + 1,
            )
            break
        task_id, title, url, count_text, steps_text = (s.strip() for s in lines[i : i + 5])
        valid = _check_or_collect(task_id, path, i + 1, "task id", errors)
        all_steps = tuple(s.strip() for s in steps_text.split(","))
        steps = tuple(s for s in all_steps if s)
        try:
            count: int | None = int(count_text)
        except ValueError:
            count = None
            report(f"expected the number of steps (an integer), found {count_text!r}", i + 4)
        if len(steps) < len(all_steps):
            report(f"empty step description in {steps_text!r}", line=i + 5)
        if count is not None and count != len(all_steps):
            report(
                f"task {task_id} says it has {count} steps but lists {len(all_steps)}: "
                f"{steps_text!r}",
                line=i + 4,
            )
        if not steps or count == 0:
            report(f"task {task_id} has no steps", line=i + 4)
        elif task_id in tasks:
            report(f"task id {task_id} appears twice", line=i + 1)
        elif valid:
            tasks[task_id] = Task(task_id=task_id, title=title, url=url, steps=steps)
        i += 5
        if i < n and lines[i].strip():
            report(f"expected a blank line after the card of task {task_id}", line=i + 1)
    return tasks


def write_task_cards(path: PathLike, tasks: Iterable[Task]) -> Path:
    """Write task cards in the release format (atomically); returns ``path``."""
    blocks = []
    for task in tasks:
        for step in task.steps:
            if "," in step or "\n" in step:
                raise ValueError(
                    f"step text {step!r} of task {task.task_id} contains ',' or newline"
                )
        blocks.append(
            f"{task.task_id}\n{task.title}\n{task.url}\n{task.n_steps}\n{','.join(task.steps)}\n\n"
        )
    with atomic_open(path, "w") as handle:
        handle.write("".join(blocks))
    return Path(path)


# --------------------------------------------------------------------------------------------
# Video lists


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

    def report(problem: str, line: int) -> None:
        exc = CrossTaskFormatError(path, problem, line=line)
        if errors is None:
            raise exc
        errors.append(exc)

    try:
        lines = _read_lines(path)
    except CrossTaskFormatError as exc:
        if errors is None:
            raise
        errors.append(exc)
        return []
    entries: list[VideoEntry] = []
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",", 2)
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            report(f"expected 'task_id,video_id,url', found {line.strip()!r}", number)
            continue
        entry = VideoEntry(
            parts[0].strip(),
            parts[1].strip(),
            parts[2].strip() if len(parts) > 2 else "",
            line=number,
        )
        if not all(
            [
                _check_or_collect(entry.task_id, path, number, "task id", errors),
                _check_or_collect(entry.video_id, path, number, "video id", errors),
            ]
        ):
            continue
        key = (entry.task_id, entry.video_id)
        if key in seen:
            report(f"video {entry.video_id} of task {entry.task_id} is listed twice", number)
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


# --------------------------------------------------------------------------------------------
# Step CSVs (annotations and constraints)


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
    for number, line in enumerate(_read_lines(path), start=1):
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


# --------------------------------------------------------------------------------------------
# Features


def open_features(path: PathLike, *, check_finite: bool = False) -> np.ndarray:
    """Open a per-video feature file memory-mapped (read-only), without loading it.

    Args:
        path: ``<vid>.npy`` holding a (T, D) float array, one row per second.
        check_finite: also scan the file (in chunks, bounded memory) for NaN/inf rows.

    Returns:
        a read-only ``np.memmap`` of shape (T, D).

    Raises:
        CrossTaskFormatError: missing, empty or unreadable file, wrong number of dimensions,
            zero rows, or (with ``check_finite``) a non-finite row.
    """
    path = Path(path)
    if not path.is_file():
        raise CrossTaskFormatError(path, "feature file not found (expected a (T, D) .npy array)")
    if path.stat().st_size == 0:
        raise CrossTaskFormatError(path, "feature file is empty (expected a (T, D) .npy array)")
    try:
        feats = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CrossTaskFormatError(path, f"not a readable .npy array ({exc})") from None
    if feats.ndim != 2:
        raise CrossTaskFormatError(
            path, f"expected a 2-D (T, D) feature array, found shape {tuple(feats.shape)}"
        )
    if feats.shape[0] == 0 or feats.shape[1] == 0:
        raise CrossTaskFormatError(
            path, f"feature array is empty: shape {tuple(feats.shape)}, expected (T>0, D>0)"
        )
    if not np.issubdtype(feats.dtype, np.floating):
        raise CrossTaskFormatError(path, f"expected float features, found dtype {feats.dtype}")
    if check_finite:
        check_features(feats, source=path)
    return feats


def check_features(features: np.ndarray, *, source: PathLike = "<features>") -> None:
    """Raise :class:`CrossTaskFormatError` naming the first row holding NaN or inf.

    Scans in chunks of rows so that a memory-mapped (T, D) array is never loaded whole.
    """
    for lo in range(0, features.shape[0], _SCAN_ROWS):
        chunk = np.asarray(features[lo : lo + _SCAN_ROWS])
        bad = ~np.isfinite(chunk).all(axis=1)
        if bad.any():
            row = lo + int(np.flatnonzero(bad)[0])
            raise CrossTaskFormatError(
                source,
                f"feature row {row} (second {row}) holds NaN or inf; expected finite values",
            )


def write_features(path: PathLike, features: np.ndarray) -> Path:
    """Save a (T, D) float32 feature array as ``.npy`` atomically; returns ``path``."""
    feats = np.asarray(features, dtype=np.float32)
    if feats.ndim != 2:
        raise ValueError(f"features must be (T, D), got shape {feats.shape}")
    return atomic_save_npy(path, feats)


# --------------------------------------------------------------------------------------------
# The dataset folder


@dataclass(frozen=True)
class CrossTaskPaths:
    """Where the three parts of a CrossTask ``DATA`` folder live.

    Build it with :meth:`from_root`; each part can be overridden (``--release``, ``--features``,
    ``--constraints`` on the command line).
    """

    release: Path
    features: Path
    constraints: Path

    @classmethod
    def from_root(
        cls,
        root: PathLike | None,
        *,
        release: PathLike | None = None,
        features: PathLike | None = None,
        constraints: PathLike | None = None,
    ) -> CrossTaskPaths:
        """``root/crosstask_release`` etc., with explicit overrides taking precedence."""
        if root is None and (release is None or features is None or constraints is None):
            raise ValueError("give DATA, or all of release, features and constraints")
        base = Path(root) if root is not None else Path(".")
        return cls(
            release=Path(release) if release is not None else base / "crosstask_release",
            features=Path(features) if features is not None else base / "crosstask_features",
            constraints=(
                Path(constraints) if constraints is not None else base / "crosstask_constraints"
            ),
        )

    @property
    def tasks_primary(self) -> Path:
        return self.release / "tasks_primary.txt"

    @property
    def tasks_related(self) -> Path:
        return self.release / "tasks_related.txt"

    @property
    def videos(self) -> Path:
        return self.release / "videos.csv"

    @property
    def videos_val(self) -> Path:
        return self.release / "videos_val.csv"

    @property
    def annotations(self) -> Path:
        return self.release / "annotations"

    def annotation(self, task_id: str, video_id: str) -> Path:
        """``annotations/<task>_<vid>.csv``; a :class:`CrossTaskFormatError` if the path leaves
        the folder (:func:`instructvid.io.ids.safe_join`)."""
        return _confined(self.annotations, f"{task_id}_{video_id}.csv")

    def constraint(self, task_id: str, video_id: str) -> Path:
        """``<constraints>/<task>_<vid>.csv``, confined to the folder."""
        return _confined(self.constraints, f"{task_id}_{video_id}.csv")

    def feature(self, video_id: str) -> Path:
        """``<features>/<vid>.npy``, confined to the folder."""
        return _confined(self.features, f"{video_id}.npy")


@dataclass
class CrossTaskData:
    """A CrossTask dataset on disk: task cards and video lists in memory, features memory-mapped.

    Attributes:
        paths: where the files are.
        primary: ``{task_id: Task}`` of the annotated tasks.
        related: ``{task_id: Task}`` of the related tasks (empty when the file is absent).
        videos: ``{task_id: [video_id, ...]}`` from ``videos.csv`` (validation videos included).
        val_videos: ``{task_id: [video_id, ...]}`` from ``videos_val.csv``.
    """

    paths: CrossTaskPaths
    primary: dict[str, Task]
    related: dict[str, Task]
    videos: dict[str, list[str]]
    val_videos: dict[str, list[str]]
    _n_frames: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def open(
        cls,
        root: PathLike | None,
        *,
        release: PathLike | None = None,
        features: PathLike | None = None,
        constraints: PathLike | None = None,
        errors: list[CrossTaskFormatError] | None = None,
    ) -> CrossTaskData:
        """Read task cards and video lists of a ``DATA`` folder (features stay on disk).

        With ``errors``, every problem of the cards and lists is appended to it and what can be
        read is kept (see :func:`read_task_cards`, :func:`read_video_list`); only a missing
        release folder still raises.
        """
        paths = CrossTaskPaths.from_root(
            root, release=release, features=features, constraints=constraints
        )
        if not paths.release.is_dir():
            raise CrossTaskFormatError(
                paths.release, "release folder not found (expected tasks_primary.txt, videos.csv …)"
            )
        primary = read_task_cards(paths.tasks_primary, errors=errors)
        related = (
            read_task_cards(paths.tasks_related, errors=errors)
            if paths.tasks_related.exists()
            else {}
        )
        overlap = set(primary) & set(related)
        if overlap:
            exc = CrossTaskFormatError(
                paths.tasks_related, f"task ids also in tasks_primary.txt: {sorted(overlap)}"
            )
            if errors is None:
                raise exc
            errors.append(exc)
            related = {t: task for t, task in related.items() if t not in overlap}
        tasks = {**primary, **related}
        videos = _group_videos(
            read_video_list(paths.videos, errors=errors), tasks, paths.videos, errors
        )
        val = (
            _group_videos(
                read_video_list(paths.videos_val, errors=errors), tasks, paths.videos_val, errors
            )
            if paths.videos_val.exists()
            else {}
        )
        return cls(paths=paths, primary=primary, related=related, videos=videos, val_videos=val)

    @cached_property
    def tasks(self) -> dict[str, Task]:
        """Primary and related tasks together (built once, on first use: ``primary`` and
        ``related`` are not changed after :meth:`open`)."""
        return {**self.primary, **self.related}

    def task(self, task_id: str) -> Task:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise KeyError(f"unknown task id {task_id!r}") from None

    def non_val_videos(self, task_id: str) -> list[str]:
        """Videos of a task that are not in the fixed validation set (train/test pool)."""
        val = set(self.val_videos.get(task_id, ()))
        return [v for v in self.videos.get(task_id, []) if v not in val]

    def iter_videos(self, task_ids: Iterable[str] | None = None) -> Iterator[tuple[str, str]]:
        """(task_id, video_id) pairs of ``videos.csv``, optionally restricted to some tasks."""
        wanted = set(task_ids) if task_ids is not None else None
        for task_id, vids in self.videos.items():
            if wanted is None or task_id in wanted:
                for vid in vids:
                    yield task_id, vid

    def features(self, video_id: str, *, check_finite: bool = False) -> np.ndarray:
        """The (T, D) features of a video, memory-mapped read-only."""
        feats = open_features(self.paths.feature(video_id), check_finite=check_finite)
        self._n_frames[video_id] = int(feats.shape[0])
        return feats

    def n_frames(self, video_id: str) -> int:
        """T (seconds) of a video, from the feature file's header."""
        if video_id not in self._n_frames:
            self.features(video_id)
        return self._n_frames[video_id]

    def has_annotation(self, task_id: str, video_id: str) -> bool:
        return self.paths.annotation(task_id, video_id).is_file()

    def segments(self, task_id: str, video_id: str) -> list[Segment]:
        """Ground-truth segments of a video (validated against the task's K)."""
        return read_segments(
            self.paths.annotation(task_id, video_id), n_steps=self.task(task_id).n_steps
        )

    def ground_truth(self, task_id: str, video_id: str) -> np.ndarray:
        """(T, K) uint8 ground truth, one row per second."""
        return self._matrix(task_id, video_id, self.paths.annotation(task_id, video_id))

    def has_constraints(self, task_id: str, video_id: str) -> bool:
        return self.paths.constraint(task_id, video_id).is_file()

    def constraints(self, task_id: str, video_id: str) -> np.ndarray:
        """(T, K) uint8 narration intervals (1 = step allowed there), one row per second."""
        return self._matrix(task_id, video_id, self.paths.constraint(task_id, video_id))

    def check_length(self, task_id: str, video_id: str) -> int:
        """T of the video; raises when it is shorter than its task's number of steps."""
        n_frames = self.n_frames(video_id)
        n_steps = self.task(task_id).n_steps
        if n_frames < n_steps:
            raise CrossTaskFormatError(
                self.paths.feature(video_id),
                f"video has {n_frames} s of features but task {task_id} has {n_steps} steps; "
                "expected at least one second per step",
            )
        return n_frames

    def _matrix(self, task_id: str, video_id: str, path: Path) -> np.ndarray:
        n_steps = self.task(task_id).n_steps
        n_frames = self.check_length(task_id, video_id)
        segments = read_segments(path, n_steps=n_steps)
        return segments_to_matrix(segments, n_frames, n_steps, source=path)


def _group_videos(
    entries: Sequence[VideoEntry],
    tasks: dict[str, Task],
    source: Path,
    errors: list[CrossTaskFormatError] | None = None,
) -> dict[str, list[str]]:
    """``{task_id: [video_id, ...]}``; with ``errors``, an unknown task id is reported once
    (with its number of videos) and its videos are left out."""
    grouped: dict[str, list[str]] = {}
    unknown: dict[str, list[int]] = {}
    for number, e in enumerate(entries, start=1):
        number = e.line if e.line is not None else number
        if e.task_id not in tasks:
            if errors is None:
                raise CrossTaskFormatError(
                    source, f"task id {e.task_id} is not in any task-card file", line=number
                )
            unknown.setdefault(e.task_id, []).append(number)
            continue
        grouped.setdefault(e.task_id, []).append(e.video_id)
    for task_id, numbers in unknown.items() if errors is not None else ():
        more = f" ({len(numbers)} videos)" if len(numbers) > 1 else ""
        errors.append(
            CrossTaskFormatError(
                source, f"task id {task_id} is not in any task-card file{more}", line=numbers[0]
            )
        )
    return grouped


def _check_or_collect(
    value: str, path: Path, line: int, what: str, errors: list[CrossTaskFormatError] | None
) -> bool:
    """Whether ``value`` is a valid id; raises, or appends to ``errors`` when given."""
    try:
        check_id(value, path=path, line=line, what=what)
    except FormatError as exc:
        error = CrossTaskFormatError(exc.path, exc.problem, line=exc.line)
        if errors is None:
            raise error from None
        errors.append(error)
        return False
    return True


def _confined(folder: Path, name: str) -> Path:
    """:func:`instructvid.io.ids.safe_join` raising a :class:`CrossTaskFormatError`."""
    try:
        return safe_join(folder, name)
    except UnsafePathError as exc:
        raise CrossTaskFormatError(exc.path, exc.problem) from None


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise CrossTaskFormatError(path, "file not found")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CrossTaskFormatError(path, f"not UTF-8 text ({exc})") from None


def _fmt_time(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text else "0"
