"""Names read from data files are untrusted: one check for ids, one confined join for paths.

Datasets arrive from the internet (CrossTask and COIN lists, subtitles, other people's RUN
folders), and every id in them ends up in a file name. :func:`check_id` is the one test applied
where an id is read; :func:`safe_join` is the one way to turn a folder and a name derived from
data into a path, refusing any result that leaves the folder (after ``..`` and symlinks are
resolved).

An id is a non-empty string of ASCII letters, digits, ``-``, ``_`` and ``.``, not ``.`` or
``..``, at most 255 characters: YouTube ids, COIN ids and CrossTask task ids all fit.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from instructvid.io.errors import FormatError
from instructvid.types import PathLike

__all__ = [
    "ID_PATTERN",
    "MAX_ID_LENGTH",
    "UnsafePathError",
    "check_id",
    "is_valid_id",
    "json_key_line",
    "safe_join",
]

MAX_ID_LENGTH = 255
#: What an id may contain.
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]+")


class UnsafePathError(FormatError):
    """A path built from data would leave its folder.

    A :class:`~instructvid.io.errors.FormatError` (so a ``ValueError``): ``path`` is the path
    that was refused, ``problem`` says which name led where.
    """

    def __init__(self, path: PathLike, problem: str) -> None:
        super().__init__(path, problem)


def is_valid_id(value: object) -> bool:
    """Whether ``value`` is a string that :func:`check_id` accepts."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and value not in (".", "..")
        and ID_PATTERN.fullmatch(value) is not None
    )


def check_id(
    value: str,
    *,
    path: PathLike,
    line: int | None = None,
    what: str = "id",
    video: str | None = None,
) -> str:
    """``value`` unchanged if it is a valid id, else a :class:`FormatError`.

    Args:
        value: the id as read.
        path: the file it was read from (named in the error).
        line: its 1-based line in that file, when known.
        what: what the id names ("video id", "task id", …), for the message.
        video: the video concerned, for files that hold many videos.
    """
    if is_valid_id(value):
        return value
    raise FormatError(
        path,
        f"{what} {value!r} is not a valid id (expected 1 to {MAX_ID_LENGTH} letters, digits, "
        "'-', '_' or '.', not '.' or '..')",
        line=line,
        video=video,
    )


def safe_join(folder: PathLike, *names: str) -> Path:
    """``folder / name / …``, refused unless the result stays inside ``folder``.

    The check resolves ``..`` and symlinks (of the parts that exist) on both sides, so a name like
    ``../x``, an absolute path, or a symlink pointing elsewhere is refused. Nothing is created.

    Args:
        folder: the folder the result must stay in (need not exist yet).
        names: path components derived from data (ids, ``f"{task}_{video}.csv"``, …).

    Raises:
        UnsafePathError: a name is empty, holds a NUL byte or a backslash, or the joined path
            leaves ``folder``.
    """
    base = Path(folder)
    for name in names:
        if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
            raise UnsafePathError(
                base,
                f"refused to build a path in this folder from the name {name!r} (empty, or "
                "holding a NUL byte or a backslash)",
            )
    joined = base.joinpath(*names)
    root = os.path.realpath(base)
    target = os.path.realpath(joined)
    if os.path.commonpath([root, target]) != root or target == root:
        raise UnsafePathError(
            joined,
            f"refused: the name {'/'.join(names)!r} leads outside the folder {str(base)!r}",
        )
    return joined


def json_key_line(text: str, key: str) -> int | None:
    """1-based line of the first ``"key":`` in JSON ``text`` (for error messages), or ``None``.

    JSON readers use it to name the line of an invalid id that is an object key.
    """
    for encoded in dict.fromkeys((json.dumps(key, ensure_ascii=False), json.dumps(key))):
        match = re.search(re.escape(encoded) + r"\s*:", text)
        if match is not None:
            return text.count("\n", 0, match.start()) + 1
    return None
