"""Per-video score arrays on disk: per-second actionness and per-second step scores.

Both are plain NumPy ``.npy`` files (``np.save``, no pickle), one file per video, one row per
**second** (the same seconds as the video's feature rows: row ``t`` is ``[t, t + 1)`` s)::

    ACTIONNESS/<video_id>.npy              float (T,)    per-second actionness S (higher =
                                                         more likely an action), e.g. written
                                                         by ``instructvid actionness score``
    STEP_SCORES/<task_id>/<video_id>.npy   float (T, K)  per-second step scores f (higher =
    STEP_SCORES/<video_id>.npy                           more likely step k), K = the task's
                                                         number of steps, in task order

Step scores are looked up in the task's sub-folder first, then at the top level: a video
that belongs to one task (the CrossTask case) may be stored flat, a video shared by several
tasks needs the sub-folders. Any real dtype is accepted and read as float64; values must be
finite. ``T`` must equal the video's number of feature rows and ``K`` the task's number of
steps when the caller knows them (``n_seconds=``, ``n_steps=``).

File names are built from untrusted ids with :func:`instructvid.io.ids.safe_join`: a path that
leaves its folder (``../x``, a symlink elsewhere) raises
:class:`~instructvid.io.ids.UnsafePathError` (a ``ValueError``) before anything is read or
written.

Errors name the file and what was expected: a missing file raises
:class:`ScoreFileNotFoundError` (a ``FileNotFoundError`` and a ``ValueError``), a malformed
one :class:`ScoreFileError` (a ``ValueError``). Writers check the same rules and write
atomically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_save_npy
from instructvid.io.errors import FormatError
from instructvid.io.ids import check_id, safe_join
from instructvid.types import PathLike

__all__ = [
    "ActionnessDir",
    "ScoreFileError",
    "ScoreFileNotFoundError",
    "StepScoresDir",
    "check_actionness",
    "check_step_scores",
    "files_fingerprint",
    "read_actionness",
    "read_step_scores",
    "write_actionness",
    "write_step_scores",
]


class ScoreFileError(FormatError):
    """A score file that does not hold what was expected (the message names the file)."""

    def __init__(self, path: PathLike, problem: str) -> None:
        super().__init__(path, problem)


class ScoreFileNotFoundError(FileNotFoundError, ScoreFileError):
    """A score file that does not exist."""

    def __init__(self, path: PathLike, problem: str) -> None:
        ScoreFileError.__init__(self, path, problem)

    __reduce__ = FormatError.__reduce__  # not OSError's, which would lose the attributes


def _as_array(values: np.ndarray, source: PathLike, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_) or np.iscomplexobj(arr):
        raise ScoreFileError(source, f"{what} must be real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _check_finite(arr: np.ndarray, source: PathLike, what: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ScoreFileError(
            source, f"{what} hold NaN or inf (first at row {row} = second {row}); expected finite"
        )


def check_actionness(
    values: np.ndarray,
    *,
    n_seconds: int | None = None,
    source: PathLike = "<actionness>",
    reference: str = "feature rows",
) -> np.ndarray:
    """Validate per-second actionness and return it as float64 (T,).

    Args:
        values: (T,) array, one value per second.
        n_seconds: expected T (the video's feature rows), if known.
        source: the file (or a description) named in errors.
        reference: what ``n_seconds`` counts, for the error message.

    Raises:
        ScoreFileError: not 1-D, empty, not real, non-finite, or T != ``n_seconds``.
    """
    arr = _as_array(values, source, "actionness values")
    if arr.ndim != 1 or arr.size == 0:
        raise ScoreFileError(
            source,
            f"expected per-second actionness of shape (T,) with T >= 1, got shape {arr.shape}",
        )
    if n_seconds is not None and arr.shape[0] != n_seconds:
        raise ScoreFileError(
            source,
            f"actionness has {arr.shape[0]} seconds but the video has {n_seconds} {reference}; "
            f"expected shape ({n_seconds},)",
        )
    _check_finite(arr, source, "actionness values")
    return arr


def check_step_scores(
    values: np.ndarray,
    *,
    n_seconds: int | None = None,
    n_steps: int | None = None,
    source: PathLike = "<step scores>",
) -> np.ndarray:
    """Validate per-second step scores and return them as float64 (T, K).

    Args:
        values: (T, K) array: row = second, column = step (task order).
        n_seconds: expected T (the video's feature rows), if known.
        n_steps: expected K (the task's number of steps), if known.
        source: the file (or a description) named in errors.

    Raises:
        ScoreFileError: not 2-D, empty, not real, non-finite, or a wrong T or K.
    """
    arr = _as_array(values, source, "step scores")
    t_text = "T" if n_seconds is None else str(n_seconds)
    k_text = "K" if n_steps is None else str(n_steps)
    expected = f"({t_text}, {k_text})"
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ScoreFileError(
            source,
            f"expected per-second step scores of shape {expected} (seconds, steps), "
            f"got shape {arr.shape}",
        )
    if n_seconds is not None and arr.shape[0] != n_seconds:
        raise ScoreFileError(
            source,
            f"step scores have {arr.shape[0]} rows but the video has {n_seconds} feature rows "
            f"(one per second); expected shape {expected}",
        )
    if n_steps is not None and arr.shape[1] != n_steps:
        raise ScoreFileError(
            source,
            f"step scores have {arr.shape[1]} columns but the task has {n_steps} steps; "
            f"expected shape {expected}",
        )
    _check_finite(arr, source, "step scores")
    return arr


def _load(path: Path, what: str) -> np.ndarray:
    if not path.is_file():
        raise ScoreFileNotFoundError(path, f"no {what} (file not found)")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ScoreFileError(path, f"not a readable .npy array of {what} ({exc})") from None


def read_actionness(
    path: PathLike, *, n_seconds: int | None = None, reference: str = "feature rows"
) -> np.ndarray:
    """Read a float (T,) per-second actionness file (see :func:`check_actionness`)."""
    path = Path(path)
    return check_actionness(
        _load(path, "per-second actionness"),
        n_seconds=n_seconds,
        source=path,
        reference=reference,
    )


def read_step_scores(
    path: PathLike, *, n_seconds: int | None = None, n_steps: int | None = None
) -> np.ndarray:
    """Read a float (T, K) per-second step-score file (see :func:`check_step_scores`)."""
    path = Path(path)
    return check_step_scores(
        _load(path, "per-second step scores"), n_seconds=n_seconds, n_steps=n_steps, source=path
    )


def write_actionness(path: PathLike, values: np.ndarray) -> Path:
    """Write float64 (T,) actionness atomically (checked first)."""
    return atomic_save_npy(path, check_actionness(values, source=path))


def write_step_scores(path: PathLike, values: np.ndarray) -> Path:
    """Write float64 (T, K) step scores atomically (checked first)."""
    return atomic_save_npy(path, check_step_scores(values, source=path))


def files_fingerprint(paths: Iterable[PathLike]) -> str:
    """A short hash of the names, sizes and modification times of files (sorted by name).

    Cheap (``stat`` only): used in cache keys so that results computed from score files are
    recomputed when the files change.
    """
    return _fingerprint((path.name, path) for path in sorted(Path(p) for p in paths))


def _fingerprint(named: Iterable[tuple[str, Path]]) -> str:
    """The hash of :func:`files_fingerprint` over ``(name, path)`` pairs, in the given order."""
    digest = hashlib.sha256()
    for name, path in named:
        st = path.stat()
        digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _folder(root: PathLike, what: str, create: bool) -> Path:
    """``root`` (created first with ``create``); a :class:`ScoreFileNotFoundError` if it is not
    a folder."""
    folder = Path(root)
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir():
        raise ScoreFileNotFoundError(
            folder, f"{what} folder not found (expected <video_id>.npy files)"
        )
    return folder


class ActionnessDir:
    """A folder of per-second actionness files ``<root>/<video_id>.npy`` (float (T,)).

    Raises:
        ScoreFileNotFoundError: ``root`` is not a folder (at construction, unless ``create``).
    """

    def __init__(self, root: PathLike, *, create: bool = False) -> None:
        self.root = _folder(root, "actionness", create)

    def path(self, video_id: str) -> Path:
        """``<root>/<video_id>.npy``; an invalid id is a FormatError naming ``root``, a path
        leaving ``root`` (a symlink elsewhere) an UnsafePathError."""
        check_id(video_id, path=self.root, what="video id")
        return safe_join(self.root, f"{video_id}.npy")

    def has(self, video_id: str) -> bool:
        return self.path(video_id).is_file()

    def read(self, video_id: str, *, n_seconds: int | None = None) -> np.ndarray:
        """float64 (T,) of ``video_id``; ``n_seconds`` = its feature rows, when known."""
        path = self.path(video_id)
        if not path.is_file():
            raise ScoreFileNotFoundError(
                path,
                f"no per-second scores for video {video_id!r} (expected a float (T,) .npy "
                f"in {self.root})",
            )
        return read_actionness(path, n_seconds=n_seconds)

    def write(self, video_id: str, values: np.ndarray) -> Path:
        return write_actionness(self.path(video_id), values)

    def files(self) -> list[Path]:
        """Every ``<video_id>.npy`` of the folder, sorted."""
        return sorted(self.root.glob("*.npy"))

    def fingerprint(self) -> str:
        """:func:`files_fingerprint` of :meth:`files`."""
        return files_fingerprint(self.files())


class StepScoresDir:
    """A folder of per-second step scores: ``<root>/<task_id>/<video_id>.npy`` or
    ``<root>/<video_id>.npy`` (float (T, K); the task's sub-folder is looked up first).

    Raises:
        ScoreFileNotFoundError: ``root`` is not a folder (at construction, unless ``create``).
    """

    def __init__(self, root: PathLike, *, create: bool = False) -> None:
        self.root = _folder(root, "step-score", create)

    def candidates(self, task_id: str, video_id: str) -> tuple[Path, Path]:
        """(task sub-folder path, top-level path) of a video's scores, in lookup order.

        Raises:
            FormatError: an invalid task or video id (``../x``, ``a/b``, ...).
            UnsafePathError: either path leaves ``root`` (a symlink elsewhere).
        """
        check_id(task_id, path=self.root, what="task id")
        check_id(video_id, path=self.root, what="video id")
        return safe_join(self.root, task_id, f"{video_id}.npy"), safe_join(
            self.root, f"{video_id}.npy"
        )

    def path(self, task_id: str, video_id: str) -> Path | None:
        """The existing file of a video's scores, or ``None``."""
        return next((p for p in self.candidates(task_id, video_id) if p.is_file()), None)

    def has(self, task_id: str, video_id: str) -> bool:
        return self.path(task_id, video_id) is not None

    def read(
        self,
        task_id: str,
        video_id: str,
        *,
        n_seconds: int | None = None,
        n_steps: int | None = None,
    ) -> np.ndarray:
        """float64 (T, K) of ``video_id`` in task ``task_id`` (T, K checked when given)."""
        path = self.path(task_id, video_id)
        if path is None:
            nested, flat = self.candidates(task_id, video_id)
            k = n_steps if n_steps is not None else "K"
            t = n_seconds if n_seconds is not None else "T"
            raise ScoreFileNotFoundError(
                nested,
                f"no step scores for video {video_id!r} of task {task_id!r} (expected a float "
                f"({t}, {k}) .npy here or at {flat})",
            )
        return read_step_scores(path, n_seconds=n_seconds, n_steps=n_steps)

    def write(
        self, task_id: str, video_id: str, values: np.ndarray, *, nested: bool = True
    ) -> Path:
        """Write a video's scores to ``<root>/<task_id>/`` (or the top level, ``nested=False``)."""
        nested_path, flat_path = self.candidates(task_id, video_id)
        return write_step_scores(nested_path if nested else flat_path, values)

    def files(self) -> list[Path]:
        """Every ``.npy`` of the folder and of its task sub-folders, sorted."""
        return sorted([*self.root.glob("*.npy"), *self.root.glob("*/*.npy")])

    def fingerprint(self) -> str:
        """:func:`files_fingerprint` of :meth:`files` (names include the task sub-folder)."""
        return _fingerprint((p.relative_to(self.root).as_posix(), p) for p in self.files())
