"""Ctrl-C that stops within seconds, also when the work is in native code or in worker processes.

Python raises :class:`KeyboardInterrupt` only between bytecodes of the main thread: a long call
into native code (pycolmap's incremental mapping, a BLAS product) runs to its end first, and
worker processes of a pool, which get the terminal's SIGINT too, each print their own
traceback. Three pieces make an interruption a clean stop:

- :func:`children_ignore_sigint`: processes started inside the block ignore SIGINT (the
  disposition is inherited through ``spawn``), so only the parent reacts to Ctrl-C; it then
  kills its workers (:func:`kill_processes`) instead of waiting for them.
- :func:`install_hard_stop`: a watcher thread learns of every SIGINT through
  :func:`signal.set_wakeup_fd` (written by the C-level handler even while the main thread is in
  native code). When the process is still alive ``grace_s`` seconds later (or at a second
  Ctrl-C), it kills the child processes, prints one line and ends the process with exit 130.
  Files are written atomically (:mod:`instructvid.io.atomic`), so what was finished stays and
  nothing is half-written; the same command resumes.
- The normal path stays the first choice: the main thread's :class:`KeyboardInterrupt` unwinds
  (cleanup runs, the command prints its line) and the process ends long before the grace.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["children_ignore_sigint", "ignore_sigint", "install_hard_stop", "kill_processes"]

#: Seconds the normal unwinding gets after Ctrl-C before the process is ended from outside.
GRACE_S = 2.0

_installed = False


def ignore_sigint() -> None:
    """Ignore SIGINT in this process (a pool worker's initializer)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def children_ignore_sigint() -> Iterator[None]:
    """Processes started in the block ignore SIGINT (only from the main thread; elsewhere a
    no-op). A Ctrl-C during the block itself (milliseconds: starting the processes) is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def kill_processes(processes: Iterable[Any]) -> None:
    """SIGKILL every live process of ``processes`` (``multiprocessing.Process`` objects);
    not SIGTERM: native libraries (glog in pycolmap) print a stack trace on SIGTERM."""
    for proc in list(processes):
        try:
            if proc.is_alive():
                proc.kill()
        except (OSError, ValueError, AttributeError):
            pass


def install_hard_stop(
    message: Callable[[], str], *, grace_s: float = GRACE_S, exit_code: int = 130
) -> bool:
    """Watch for SIGINT; end the process ``grace_s`` after it (or at a second one) when the
    normal unwinding has not. ``message()`` is the line printed then (to stderr).

    Installs once per process, from the main thread; returns whether it is installed.
    """
    global _installed
    if _installed:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False  # someone else handles SIGINT (or it is ignored): leave it to them
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:
        os.close(read_fd)
        os.close(write_fd)
        return False
    watcher = threading.Thread(
        target=_watch,
        args=(read_fd, message, grace_s, exit_code),
        name="instructvid-interrupt",
        daemon=True,
    )
    watcher.start()
    _installed = True
    return True


def _sigints(read_fd: int, timeout: float | None) -> int:
    """How many SIGINTs arrived on the wakeup pipe within ``timeout`` seconds."""
    ready, _, _ = select.select([read_fd], [], [], timeout)
    if not ready:
        return 0
    return os.read(read_fd, 512).count(signal.SIGINT)


def _watch(read_fd: int, message: Callable[[], str], grace_s: float, exit_code: int) -> None:
    while _sigints(read_fd, None) == 0:
        pass
    deadline = time.monotonic() + grace_s
    while (left := deadline - time.monotonic()) > 0:
        if _sigints(read_fd, left):
            break  # a second Ctrl-C: no more waiting
    import multiprocessing

    kill_processes(multiprocessing.active_children())
    try:
        sys.stderr.write(message() + "\n")
        sys.stderr.flush()
    finally:
        os._exit(exit_code)
