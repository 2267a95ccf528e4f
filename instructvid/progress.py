"""Rich progress bars as ``progress(done, total)`` callbacks for the library functions.

Used by the command line and the demo; the library itself only calls the callbacks it is given."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from instructvid.types import ProgressCallback

#: Results (tables, paths) go to stdout; when it is not a terminal (a pipe, a file, a test), lines
#: are not wrapped at 80 columns.
console = Console()
if not console.is_terminal:
    console = Console(width=200)
#: Progress bars go to stderr so that stdout stays clean for results.
progress_console = Console(stderr=True)


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """A progress bar on stderr; yields ``update(done, total)``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=progress_console,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _plain_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


def show_warnings_plainly() -> None:
    """Warnings print as ``warning: <message>`` alone: no source file, line number, class name
    or quoted source line (those help a developer, not a user of the command line)."""
    warnings.formatwarning = _plain_warning


def across_methods(
    update: ProgressCallback, methods: Sequence[str]
) -> Callable[[str, float, int], None]:
    """A ``progress(method, done, total)`` callback (as ``run_benchmark`` calls it, ``done`` of
    ``total`` splits of one method, fractional inside a split) that moves one bar over all methods' splits: method ``i``'s
    split ``done`` is ``i * total + done`` of ``len(methods) * total``. Unknown names (e.g. an
    external method added later) count after the known ones."""
    order = {m: i for i, m in enumerate(methods)}

    def progress(method: str, done: float, total: int) -> None:
        index = order.setdefault(method, len(order))
        update(index * total + done, max(len(order), len(methods)) * total)

    return progress
