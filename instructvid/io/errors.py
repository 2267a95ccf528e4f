"""The one error type of the file readers: which file, where in it, and what was expected.

Every reader in :mod:`instructvid.io` raises a subclass of :class:`FormatError` (itself a
``ValueError``), so that a caller can catch "this input file is bad" in one place and show the
message, which always starts with the file (and the line or the video, when known)::

    data/annotations/23521_abc.csv, line 3: expected 'step,start,end' with start <= end, got '2,5.0,1.0'
"""

from __future__ import annotations

from pathlib import Path

from instructvid.types import PathLike

__all__ = ["FormatError"]


class FormatError(ValueError):
    """A file does not have the content its reader expects.

    Attributes:
        path: the offending file.
        problem: what is wrong and what was expected.
        line: 1-based line number, or ``None`` when the problem is not tied to a line.
        video: the video concerned (files that hold many videos), or ``None``.
    """

    def __init__(
        self,
        path: PathLike,
        problem: str,
        *,
        line: int | None = None,
        video: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.problem = problem
        self.line = line
        self.video = video
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if video is not None:
            where += f", video {video!r}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps the attributes when the error crosses a process boundary (process pools).
        return (_rebuild, (type(self), str(self.path), self.problem, self.line, self.video))


def _rebuild(
    cls: type[FormatError], path: str, problem: str, line: int | None, video: str | None
) -> FormatError:
    err = cls.__new__(cls)
    FormatError.__init__(err, path, problem, line=line, video=video)
    return err
