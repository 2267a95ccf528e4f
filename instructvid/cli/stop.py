"""The one way a command stops early: a user's mistake (exit 2) or Ctrl-C (exit 130).

``with stop_cleanly():`` around a command's work prints a bad input's message alone (no
traceback: :class:`ValueError`, which every reader's ``FormatError`` is) and ends with exit 2; an
interruption prints one line saying that the same command resumes and ends with exit 130.
``raise fail(exc)`` is the same exit 2 for an error caught by hand. A command whose library
reports a user's mistake with another exception too (a missing file, a failed input of a batch)
names those types: ``with stop_cleanly("reconstruct", also=(FileNotFoundError,)):``. A path
the file system refuses (a folder under a file, no permission, a full disk) is the user's too:
exit 2 naming the path and the reason.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape

from instructvid.progress import console

__all__ = ["command_path", "fail", "set_command", "stop_cleanly"]


def fail(exc: Exception | str) -> typer.Exit:
    """Print ``exc`` as an error; the exit (code 2) to raise."""
    console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


#: What the file system says about a path the user gave, not a fault of the program.
_PATH_ERRORS = (NotADirectoryError, IsADirectoryError, PermissionError, FileExistsError)


def _path_message(exc: OSError) -> str:
    """``out.txt/x: Not a directory`` — the path and the reason, without errno's brackets."""
    reason = exc.strerror or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


@contextmanager
def stop_cleanly(what: str = "", *, also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Bad input ends with exit 2 and its message; Ctrl-C with exit 130 and how to resume.

    Args:
        what: the work interrupted, named by the Ctrl-C line when no command is running (the
            line names the command, ``instructvid synth crosstask``, when there is one).
        also: exception types beside :class:`ValueError` that mean bad input for this command.
    """
    try:
        yield
    except (ValueError, *also) as exc:
        raise fail(exc) from None
    except OSError as exc:
        if isinstance(exc, _PATH_ERRORS) or exc.errno in (errno.ENOSPC, errno.EROFS):
            raise fail(_path_message(exc)) from None
        raise
    except KeyboardInterrupt:
        label = command_path() or what or "the command"
        console.print(
            f"[yellow]interrupted {escape(label)}[/yellow] — rerun the same command to resume",
            highlight=False,
        )
        raise typer.Exit(130) from None


#: The command line's command (``instructvid steps benchmark``), set by the console script's
#: entry point before it runs the app; empty when the app is called otherwise (tests).
_COMMAND = {"label": ""}


def set_command(label: str) -> None:
    """Name the running command for the Ctrl-C line (called once by the entry point)."""
    _COMMAND["label"] = label


def command_path() -> str:
    """``instructvid steps benchmark``: the command running now (empty when not known)."""
    return _COMMAND["label"]
