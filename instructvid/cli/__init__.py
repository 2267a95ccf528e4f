"""Command-line interface (typer): thin, parses, calls the library, prints.

Two typer details are set here once, for every app: usage lines name a required argument
``DATA`` (not ``{DATA}``), and ``--help`` is laid out to read well at 80 columns
(:mod:`instructvid.cli.help_layout`).
"""

from typer.core import TyperArgument

from instructvid.cli import help_layout


def _usage_display_name(self: TyperArgument) -> str:
    """A required argument reads ``DATA`` on the usage line (click's way), not ``{DATA}``."""
    name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
    return name + ("..." if self.nargs != 1 else "")


TyperArgument._usage_display_name = _usage_display_name  # type: ignore[method-assign]
help_layout.install()
