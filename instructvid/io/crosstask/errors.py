"""The CrossTask format's error, and the two ways a file of the layout becomes one.

:class:`CrossTaskFormatError` names the file, the line and what was expected; :func:`read_lines`
raises it for a missing or non-UTF-8 file, :func:`confined` for a path built from ids that
leaves its folder (:func:`instructvid.io.ids.safe_join`).
"""

from __future__ import annotations

from pathlib import Path

from instructvid.io.errors import FormatError
from instructvid.io.ids import UnsafePathError, safe_join
from instructvid.io.text_file import read_text
from instructvid.types import PathLike

__all__ = ["CrossTaskFormatError", "confined", "read_lines"]


class CrossTaskFormatError(FormatError):
    """A CrossTask file does not have the expected content (``path``, ``line``, ``problem``)."""

    def __init__(self, path: PathLike, problem: str, line: int | None = None) -> None:
        super().__init__(path, problem, line=line)


def read_lines(path: Path) -> list[str]:
    """The lines of a text file of the layout (a :class:`CrossTaskFormatError` when it is
    missing or not UTF-8)."""
    return read_text(path, CrossTaskFormatError).splitlines()


def confined(folder: Path, name: str) -> Path:
    """:func:`instructvid.io.ids.safe_join` raising a :class:`CrossTaskFormatError`."""
    try:
        return safe_join(folder, name)
    except UnsafePathError as exc:
        raise CrossTaskFormatError(exc.path, exc.problem) from None
