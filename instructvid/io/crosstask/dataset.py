"""A CrossTask ``DATA`` folder: where its parts live, and the dataset read from them.

:class:`CrossTaskPaths` builds every path of the layout (paths from ids are confined to their
folder); :class:`CrossTaskData` holds the task cards and video lists in memory and opens
features and step CSVs on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from instructvid.io.crosstask.errors import CrossTaskFormatError, confined
from instructvid.io.crosstask.features import open_features
from instructvid.io.crosstask.segments import Segment, read_segments, segments_to_matrix
from instructvid.io.crosstask.tasks import Task, read_task_cards
from instructvid.io.crosstask.videos import group_videos, read_video_list
from instructvid.io.problems import Problems
from instructvid.types import PathLike

__all__ = ["CrossTaskData", "CrossTaskPaths"]


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
        return confined(self.annotations, f"{task_id}_{video_id}.csv")

    def constraint(self, task_id: str, video_id: str) -> Path:
        """``<constraints>/<task>_<vid>.csv``, confined to the folder."""
        return confined(self.constraints, f"{task_id}_{video_id}.csv")

    def feature(self, video_id: str) -> Path:
        """``<features>/<vid>.npy``, confined to the folder."""
        return confined(self.features, f"{video_id}.npy")


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
            Problems(errors, CrossTaskFormatError).report(
                paths.tasks_related, f"task ids also in tasks_primary.txt: {sorted(overlap)}"
            )
            related = {t: task for t, task in related.items() if t not in overlap}
        tasks = {**primary, **related}
        videos = group_videos(
            read_video_list(paths.videos, errors=errors), tasks, paths.videos, errors
        )
        val = (
            group_videos(
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
