"""The first step of every text reader: a file's text or JSON, or the reader's error naming it.

A missing file and a file that is not UTF-8 (or not JSON) fail the same way in every format;
the reader passes its own :class:`~instructvid.io.errors.FormatError` subclass, called as
``error(path, problem)``, so the message stays that reader's::

    text = read_text(path, SubtitleFormatError, encoding="utf-8-sig")
    text, data = read_json_object(path, CoinFormatError, missing="...", key="database", expected="...")
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from instructvid.io.errors import FormatError

__all__ = ["read_json_object", "read_text"]


def read_text(
    path: Path,
    error: Callable[[Path, str], FormatError],
    *,
    missing: str = "file not found",
    encoding: str = "utf-8",
) -> str:
    """The text of ``path``.

    Args:
        path: the file.
        error: the reader's error type, called as ``error(path, problem)``.
        missing: the problem named when ``path`` is not a file.
        encoding: ``"utf-8"``, or ``"utf-8-sig"`` to drop a byte-order mark.

    Raises:
        FormatError: (``error``) ``path`` is not a file, or not UTF-8 text.
    """
    if not path.is_file():
        raise error(path, missing)
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise error(path, f"not UTF-8 text ({exc})") from None


def read_json_object(
    path: Path,
    error: Callable[[Path, str], FormatError],
    *,
    missing: str,
    key: str,
    expected: str,
) -> tuple[str, dict[str, Any]]:
    """``(text, data)`` of a JSON file whose top level is an object holding an object ``key``.

    The text is returned too, for :func:`instructvid.io.ids.json_key_line` (the line of a bad
    id in an error message).

    Args:
        path: the JSON file (UTF-8).
        error: the reader's error type, called as ``error(path, problem)``.
        missing: the problem named when ``path`` is not a file.
        key: the top-level key that must hold an object (``"database"``, ``"results"``).
        expected: the problem named when it does not.

    Raises:
        FormatError: (``error``) missing file, not UTF-8 JSON, or no object under ``key``.
    """
    if not path.is_file():
        raise error(path, missing)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(path, f"not valid UTF-8 JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise error(path, expected)
    return text, data
