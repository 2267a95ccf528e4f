"""Atomic file writes: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and an interrupted job leaves either the old file or
the new one, never a truncated one. Every writer in the project goes through these functions.

By default each file is also flushed to disk (``fsync``) before the rename, so that it survives
a power loss or an OS crash. Inside :func:`skip_fsync` that flush is skipped: writes stay atomic
for readers and for killed processes, but a file written just before a crash of the machine may
come back empty. Use it for outputs that are cheap to regenerate (synthetic worlds), where
``fsync`` costs about two thirds of the time.

Files get the mode any new file of the user gets (``0o666`` minus the umask: ``0644`` under the
usual umask 022), not the ``0600`` of a private temporary file.
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


def _umask() -> int:
    """The process's current umask (read without changing it where the OS tells it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (a brief race with other threads)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a newly created file gets under the current umask (``0o644`` under 022)."""
    return 0o666 & ~_umask()


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
        if hasattr(os, "fchmod"):
            os.fchmod(fd, new_file_mode())  # mkstemp's 0600 would make every output private
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


def atomic_save_figure(path: PathLike, fig: Any, *, dpi: float | None = None) -> Path:
    """Save a matplotlib figure as PNG to ``path`` atomically, close it, return the path.

    Args:
        path: the ``.png`` file to write.
        fig: a ``matplotlib.figure.Figure`` made with ``pyplot`` (closed afterwards).
        dpi: dots per inch; ``None`` keeps matplotlib's default (the figure's own, 100).
    """
    import matplotlib.pyplot as plt

    options = {} if dpi is None else {"dpi": dpi}
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", **options)
    plt.close(fig)
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
