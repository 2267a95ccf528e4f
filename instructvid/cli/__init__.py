"""Command-line interface (typer): thin, parses, calls the library, prints."""

from typer.core import TyperArgument


def _usage_display_name(self: TyperArgument) -> str:
    """A required argument reads ``DATA`` on the usage line (click's way), not ``{DATA}``."""
    name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
    return name + ("..." if self.nargs != 1 else "")


TyperArgument._usage_display_name = _usage_display_name  # type: ignore[method-assign]
