"""Where a lenient reader puts the problems it finds: raised at once, or collected in a list.

Some readers (the CrossTask task cards and video lists) serve two callers: a command that must
stop at the first bad line, and ``steps check``, which lists every problem and keeps what can
be read. They take ``errors: list[...] | None`` and report each problem through one
:class:`Problems`::

    problems = Problems(errors, CrossTaskFormatError)
    problems.report(path, "expected 'task_id,video_id,url'", line=7)   # raises when errors is None
    if not problems.check_id(video_id, path=path, line=7, what="video id"):
        ...  # lenient mode: recorded, skip the line

Without a list every problem raises at once (strict); with one it is appended, in the order
found, and reading goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from instructvid.io.errors import FormatError
from instructvid.io.ids import check_id
from instructvid.types import PathLike

__all__ = ["Problems"]

E = TypeVar("E", bound=FormatError)


class Problems(Generic[E]):
    """A reader's problems: raised at once (``errors`` is ``None``) or appended to ``errors``.

    Args:
        errors: the list collecting the problems (lenient mode), or ``None`` (strict mode).
        error: the reader's error type, called as ``error(path, problem, line=line)``.
    """

    def __init__(self, errors: list[E] | None, error: Callable[..., E]) -> None:
        self.errors = errors
        self.error = error

    @property
    def lenient(self) -> bool:
        """Whether problems are collected (and reading goes on) rather than raised."""
        return self.errors is not None

    def add(self, error: E) -> None:
        """Raise ``error`` (strict mode) or append it to the list (lenient mode)."""
        if self.errors is None:
            raise error
        self.errors.append(error)

    def report(self, path: PathLike, problem: str, *, line: int | None = None) -> None:
        """:meth:`add` the reader's error for ``problem`` in ``path`` (at 1-based ``line``)."""
        self.add(self.error(path, problem, line=line))

    def check_id(self, value: str, *, path: PathLike, line: int | None, what: str) -> bool:
        """Whether ``value`` is a valid id (:func:`instructvid.io.ids.check_id`); an invalid one
        is reported as the reader's error (same message) and gives ``False`` in lenient mode."""
        try:
            check_id(value, path=path, line=line, what=what)
        except FormatError as exc:
            error = self.error(exc.path, exc.problem, line=exc.line)
        else:
            return True
        self.add(error)
        return False
