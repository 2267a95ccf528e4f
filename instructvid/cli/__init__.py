"""Command-line interface (typer): thin, parses, calls the library, prints.

Typer details set here once, for every app: an argument is named in capitals (``RUN``, as
click does; typer shows the parameter's name, ``run``), a required one reads ``DATA`` on the
usage line (not ``{DATA}``), and ``--help`` is laid out to read well at 80 columns
(:mod:`instructvid.cli.help_layout`).
"""

from typer.core import TyperArgument

from instructvid.cli import help_layout


def _display_name_raw(self: TyperArgument) -> str:
    """The argument's metavar, or its name in capitals (usage line, help panel, error hints)."""
    return self.metavar if self.metavar is not None else self.name.upper()


def _usage_display_name(self: TyperArgument) -> str:
    """A required argument reads ``DATA`` on the usage line (click's way), not ``{DATA}``."""
    name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
    return name + ("..." if self.nargs != 1 else "")


TyperArgument.display_name_raw = property(_display_name_raw)  # type: ignore[assignment]
TyperArgument._usage_display_name = _usage_display_name  # type: ignore[method-assign]
help_layout.install()
