"""``--help`` that reads well at 80 columns and at 120+, for every typer app at once.

Typer's rich help (``typer.rich_utils``) has two habits that read badly in a narrow terminal:

- it keeps the line breaks of a docstring's later paragraphs and of a command's summary in a
  group's command list, so a paragraph wrapped at 100 columns in the source comes out as ragged
  short lines;
- it lays options out as a table of up to seven columns (required mark, long names, short names,
  negative names, their short forms, type, help); the help column gets what the widest name of
  the panel leaves, about 20 characters at 80 columns, and words longer than that are cut.

:func:`install` (called once by ``instructvid/cli/__init__.py``) has three pieces of
``typer.rich_utils`` replaced (:func:`patch_rich_utils`, when a help is first formatted):

- paragraphs are unwrapped (:func:`unwrap_paragraph`): single line breaks become spaces, rich
  wraps the text to the width; blank lines, list items, indented (code) lines and click's ``\\b``
  blocks keep their breaks;
- a command's summary in a group's list is unwrapped the same way;
- options are laid out in two columns (:class:`OptionRows`): the names with their type, then the
  help followed by its default and ``[required]`` as one paragraph (:class:`HelpCell`: a mark
  that would break moves to a line of its own). The name column is as wide as
  the command's widest name that fits in :data:`NAME_SHARE` of the width; a longer name gets a line
  of its own and its help starts on the next line, in the help column (click's plain layout).
  Every panel of a command uses the same name column, so their help columns line up.

Every option, default, type and mark typer shows is still shown. If a later typer renames these
pieces, :func:`patch_rich_utils` leaves typer's own layout in place (``tests/cli/test_help_width.py``
notices).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import click

__all__ = [
    "NAME_SHARE",
    "TYPER_ORIGINALS",
    "HelpCell",
    "OptionRows",
    "install",
    "name_column_width",
    "patch_rich_utils",
    "unwrap_paragraph",
]

NAME_SHARE = 0.4
"""Largest share of the panel's width the option-name column may take."""
MIN_NAME_WIDTH = 16
"""The name column may always take this many characters (narrow terminals)."""
INDENT_WITHOUT_NAMES = 10
"""Help indent when no name of the command fits in the name column."""
GAP = 2
"""Spaces between the name column and the help column."""

_LIST_ITEM = re.compile(r"\s*(?:[-*+•]|\d+[.)])\s+\S")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def unwrap_paragraph(paragraph: str) -> str:
    """One paragraph with its single line breaks joined by spaces, where they are only wrapping.

    A list item (``- x``, ``* x``, ``1. x``) starts a new line and the lines after it continue
    it (Markdown's rule); an indented line elsewhere is code and keeps its line; a paragraph starting with
    click's ``\\b`` keeps every line (the mark is dropped).
    """
    if paragraph.startswith("\b"):
        return paragraph[1:].lstrip("\n")
    lines: list[str] = []
    state = "text"  # of the last line: text, item or code
    for line in paragraph.split("\n"):
        if not line.strip():
            continue
        indented = line[:1].isspace()
        if _LIST_ITEM.match(line):
            lines.append(line.rstrip())
            state = "item"
        elif not lines or (indented and state != "item") or (not indented and state == "code"):
            lines.append(line.rstrip())
            state = "code" if indented else "text"
        else:
            lines[-1] = f"{lines[-1]} {line.strip()}"
    return "\n".join(lines)


def unwrap_text(text: str) -> str:
    """``text``'s paragraphs (split at blank lines) unwrapped, separated by one blank line."""
    return "\n\n".join(unwrap_paragraph(p) for p in _BLANK_LINE.split(text) if p.strip())


def name_column_width(name_widths: Iterable[int], width: int) -> int:
    """The name column's width (characters) for names of ``name_widths`` in a ``width`` panel.

    The widest name that fits in ``max(MIN_NAME_WIDTH, NAME_SHARE * width)``; the names wider than
    that go on lines of their own.
    """
    cap = max(MIN_NAME_WIDTH, int(width * NAME_SHARE))
    fitting = [w for w in name_widths if w <= cap]
    return max(fitting) if fitting else min(cap, INDENT_WITHOUT_NAMES)


class OptionRows:
    """Rows of (names, help) laid out for the width of the panel they are rendered in.

    ``name_widths``: the widths of every name cell of the command (all panels), so that every
    panel of a command chooses the same name column.
    """

    def __init__(self, rows: Sequence[tuple[Text, RenderableType]], name_widths: Sequence[int]):
        self.rows = list(rows)
        self.name_widths = list(name_widths)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        name_width = name_column_width(self.name_widths, options.max_width)
        grid: Table | None = None
        for name, help_cell in self.rows:
            if name.cell_len > name_width:
                if grid is not None:
                    yield grid
                    grid = None
                yield name
                name = Text("")
            if grid is None:
                grid = _grid(name_width)
            grid.add_row(name, help_cell)
        if grid is not None:
            yield grid


def _grid(name_width: int) -> Table:
    grid = Table.grid(padding=(0, GAP, 0, 0), expand=True)
    grid.add_column(width=name_width, no_wrap=True)
    grid.add_column(ratio=1)
    return grid


def _name_cell(param: click.Parameter, ctx: click.Context, required_column: bool) -> Text:
    """``* --related / --no-related <bool>``: the mark, names, negative names, type, range."""
    from typer import rich_utils
    from typer.core import TyperArgument

    text = Text()
    if required_column:
        mark = rich_utils.REQUIRED_SHORT_STRING if param.required else ""
        text.append(f"{mark:<2}", style=rich_utils.STYLE_REQUIRED_SHORT)
    if isinstance(param, TyperArgument):
        name = param.display_name_raw
        if param.metavar is None and param.nargs != 1:
            name += "..."
        text.append_text(rich_utils.highlighter(name))
    else:
        text.append_text(rich_utils.highlighter(", ".join(param.opts)))
        if param.secondary_opts:
            text.append(" / ")
            text.append_text(rich_utils.negative_highlighter(", ".join(param.secondary_opts)))
    types = Text(style=rich_utils.STYLE_TYPES)
    shown_type = getattr(param, "display_type_rich", None)
    if shown_type is not None and (type_text := shown_type(ctx=ctx)) is not None:
        types.append(type_text)
    range_help = getattr(param, "_get_number_range_help_str", None)
    if range_help is not None and (range_text := range_help()):
        types.append(rich_utils.RANGE_STRING.format(range_text))
    if types.plain.strip():
        text.append(" ")
        text.append_text(rich_utils.types_highlighter(types))
    return text


class HelpCell:
    """An option's help followed by its marks (``[default: 20]``, ``[required]``) as one paragraph;
    the marks move to a line of their own rather than break, when they fit on one."""

    def __init__(self, body: Text | None, marks: Sequence[Text]):
        self.body = body
        self.marks = Text(" ").join(marks) if marks else None

    def _joined(self, console: Console, width: int) -> Text:
        if self.body is None or self.marks is None:
            return self.body or self.marks or Text()
        last = self.body.wrap(console, width)[-1] if self.body.plain else Text()
        fits = cell_len(last.plain.rstrip()) + 1 + self.marks.cell_len <= width
        return Text.assemble(self.body, " " if fits or not self.body.plain else "\n", self.marks)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._joined(console, options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._joined(console, options.max_width))


def _help_cell(param: click.Parameter, ctx: click.Context, markup_mode: Any) -> RenderableType:
    """The help, env var, default and ``[required]`` of typer's help column (see
    :class:`HelpCell`)."""
    from typer import rich_utils

    columns = rich_utils._get_parameter_help(param=param, ctx=ctx, markup_mode=markup_mode)
    items = list(columns.renderables)
    if not all(isinstance(item, Text) for item in items):  # markdown help
        return Group(*items)
    if getattr(param, "help", None):
        return HelpCell(items[0], items[1:])
    return HelpCell(None, items)


def _shown_params(ctx: click.Context) -> list[click.Parameter]:
    return [p for p in ctx.command.get_params(ctx) if not getattr(p, "hidden", False)]


def _print_options_panel(
    *,
    name: str,
    params: list[Any],
    ctx: click.Context,
    markup_mode: Any,
    console: Console,
) -> None:
    """Typer's ``_print_options_panel``, laid out by :class:`OptionRows`."""
    from typer import rich_utils

    if not params:
        return
    shown = _shown_params(ctx)
    required_column = any(p.required for p in shown)
    widths = [_name_cell(p, ctx, required_column).cell_len for p in shown]
    rows = [(_name_cell(p, ctx, required_column), _help_cell(p, ctx, markup_mode)) for p in params]
    console.print(
        Panel(
            OptionRows(rows, widths),
            border_style=rich_utils.STYLE_OPTIONS_PANEL_BORDER,
            title=name,
            title_align=rich_utils.ALIGN_OPTIONS_PANEL,
        )
    )


def _fix_linebreaks(paragraphs: list[str], markup_mode: Any) -> str:
    """Typer's ``_fix_linebreaks`` (a help text's later paragraphs, the epilog), unwrapped."""
    text = "\n\n".join(paragraphs)
    return text if markup_mode == "markdown" else unwrap_text(text)


def _make_command_help(*, help_text: str, markup_mode: Any) -> RenderableType:
    """A command's summary in its group's list: its help's first paragraph, unwrapped."""
    import inspect

    from typer import rich_utils

    first = _BLANK_LINE.split(inspect.cleandoc(help_text))[0]
    if markup_mode != "markdown":
        first = unwrap_paragraph(first)
    return rich_utils._make_rich_text(
        text=first.strip(), style=rich_utils.STYLE_OPTION_HELP, markup_mode=markup_mode
    )


TYPER_ORIGINALS: dict[str, Any] = {}
"""Typer's own pieces replaced by :func:`install`, by name (to compare against typer's layout)."""
_REPLACEMENTS = {
    "_fix_linebreaks": _fix_linebreaks,
    "_make_command_help": _make_command_help,
    "_print_options_panel": _print_options_panel,
}
_NEEDED = ("_get_parameter_help", "_make_rich_text", "highlighter", "negative_highlighter")


def patch_rich_utils() -> bool:
    """Replace the pieces of ``typer.rich_utils`` (idempotent); False (typer's layout kept) when
    this typer lacks a piece the layout needs."""
    try:
        from typer import rich_utils
    except ImportError:  # typer without rich: click's plain help, which wraps by itself
        return False
    if not all(hasattr(rich_utils, n) for n in (*_REPLACEMENTS, *_NEEDED)):
        return False
    for attr, replacement in _REPLACEMENTS.items():
        TYPER_ORIGINALS.setdefault(attr, getattr(rich_utils, attr))
        setattr(rich_utils, attr, replacement)
    return True


def install() -> None:
    """Every typer command and group formats its help with this layout (idempotent).

    ``typer.rich_utils`` costs ~0.08 s to import, so it is patched when a help is first formatted,
    not when the CLI starts.
    """
    from typer.core import TyperCommand, TyperGroup

    for cls in (TyperCommand, TyperGroup):
        if getattr(cls.format_help, "_readable", False):
            continue
        cls.format_help = _patching_first(cls.format_help)  # type: ignore[method-assign]


def _patching_first(format_help: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(format_help)
    def wrapper(self: click.Command, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        patch_rich_utils()
        format_help(self, ctx, formatter)

    wrapper._readable = True  # type: ignore[attr-defined]
    return wrapper
