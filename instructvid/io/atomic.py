"""Atomic file writes: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and an interrupted job leaves either the old file or
the new one, never a truncated one. Every writer in the project goes through these functions.

By default each file is also flushed to disk (``fsync``) before the rename, so that it survives
a power loss or an OS crash. Inside :func:`skip_fsync` that flush is skipped: writes stay atomic
for readers and for killed processes, but a file written just before a crash of the machine may
come back empty. Use it for outputs that are cheap to regenerate (synthetic worlds), where
``fsync`` costs about two thirds of the time.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

import numpy as np

from instructvid.types import PathLike

_DURABLE: ContextVar[bool] = ContextVar("instructvid_atomic_durable", default=True)


@contextmanager
def skip_fsync() -> Iterator[None]:
    """Within the block, atomic writes skip ``fsync`` (still written to a temporary file and
    renamed). For regenerable outputs only; see the module docstring."""
    token = _DURABLE.set(False)
    try:
        yield
    finally:
        _DURABLE.reset(token)


@contextmanager
def atomic_open(path: PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` atomically.

    Args:
        path: the final file path. Parent folders are created.
        mode: ``"w"`` (text, UTF-8, ``\\n`` newlines) or ``"wb"`` (binary).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open supports modes 'w' and 'wb', got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if mode == "w":
            handle: IO[Any] = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        else:
            handle = os.fdopen(fd, "wb")
        with handle:
            yield handle
            handle.flush()
            if _DURABLE.get():
                os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8) and return the path."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def atomic_write_json(path: PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (NaN is written as ``null``)."""
    text = json.dumps(_json_safe(obj), indent=indent, sort_keys=False)
    return atomic_write_text(path, text + "\n")


def atomic_save_npy(path: PathLike, array: np.ndarray) -> Path:
    """Save ``array`` in ``.npy`` format to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        np.save(handle, np.asarray(array), allow_pickle=False)
    return Path(path)


def _json_safe(obj: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return _json_safe(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj
