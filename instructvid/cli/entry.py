"""Running the ``instructvid`` app as a program: Ctrl-C is one line and exit 130, always.

A command that wraps its work in :func:`instructvid.cli.stop.stop_cleanly` prints its own line;
for the others, the :class:`KeyboardInterrupt` that typer turns into a silent exit 130 gets the
same line here. Work stuck in native code (where Python cannot raise) or in worker processes is
ended by :func:`instructvid.interrupt.install_hard_stop` a few seconds after the Ctrl-C.
"""

from __future__ import annotations

import sys

import typer

from instructvid.cli.stop import set_command
from instructvid.interrupt import install_hard_stop
from instructvid.progress import console, show_warnings_plainly

__all__ = ["command_label", "run"]


def command_label(app: typer.Typer, argv: list[str] | None = None) -> str:
    """``instructvid steps benchmark``: the command named by ``argv`` (default ``sys.argv``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    words = ["instructvid"]
    while args and args[0] in (getattr(command, "commands", None) or {}):
        words.append(args[0])
        command = command.commands[args.pop(0)]  # type: ignore[attr-defined]
    return " ".join(words)


def interrupted_line(label: str) -> str:
    return f"interrupted {label} — rerun the same command to resume"


def run(app: typer.Typer) -> None:
    """``app()`` with the Ctrl-C behaviour of the module docstring."""
    label = command_label(app)
    set_command(label)
    show_warnings_plainly()
    install_hard_stop(lambda: interrupted_line(label))
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130 and _unhandled_interrupt(exc):
            console.print(f"[yellow]{interrupted_line(label)}[/yellow]", highlight=False)
        raise


def _unhandled_interrupt(exc: SystemExit) -> bool:
    """Typer's own exit 130 for a KeyboardInterrupt no command caught (``Exit from
    KeyboardInterrupt``); a command that handled it raised its ``Exit(130)`` from None."""
    context = exc.__context__
    return isinstance(context, typer.Exit) and isinstance(context.__cause__, KeyboardInterrupt)
