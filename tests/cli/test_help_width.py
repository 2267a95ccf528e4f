"""``--help`` of every command reads whole at 80 and at 120 columns.

Every command and sub-command of the app (walked from its click command tree) is rendered with
typer's runner at each width and checked: no line is wider than the terminal, every option name
stands whole on a line of the name column, no word of the command's help, of its options' help or
of its sub-commands' summaries is cut across lines, the docstring's paragraphs are wrapped to the
width (not ragged short lines), and every option, type, default and ``[required]`` typer's own
layout shows is still shown.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text
from typer import rich_utils
from typer.testing import CliRunner

from instructvid.cli import help_layout
from instructvid.cli.help_layout import name_column_width, unwrap_paragraph
from instructvid.cli.main import app

WIDTHS = (80, 120)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BOX = re.compile("[\u2500-\u257f]")
_WRAPPERS = "()[]{},.;:'\"`"
_OPTION = re.compile(r"--?[A-Za-z0-9][\w-]*")
_MARKERS = re.compile(r"\[(?:default|env var): [^\]]*\]|\[required\]")
_TYPES = re.compile(r"<[^<>\s]+>")


def _walk(command: typer.core.TyperGroup, path: tuple[str, ...] = ()) -> Iterator:
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        if not sub.hidden:
            yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))
CASES = [(path, command, width) for path, command in COMMANDS for width in WIDTHS]


def _case_id(case: tuple) -> str:
    path, _, width = case
    return f"{' '.join(path) or 'instructvid'}@{width}"


@pytest.fixture(autouse=True)
def _plain_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console sizes itself from COLUMNS, without colours (whatever the caller's env)."""
    monkeypatch.setattr(rich_utils, "MAX_WIDTH", None)
    monkeypatch.setattr(rich_utils, "FORCE_TERMINAL", False)


def render_help(path: tuple[str, ...], width: int) -> list[str]:
    """The lines of ``instructvid PATH --help`` in a ``width``-column terminal."""
    result = CliRunner().invoke(
        app, [*path, "--help"], env={"COLUMNS": str(width)}, terminal_width=width
    )
    assert result.exit_code == 0, result.output
    return _ANSI.sub("", result.output).splitlines()


def _params(command: typer.core.TyperCommand) -> list:
    ctx = typer.Context(command)
    return [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]


def _plain(text: str | None) -> str:
    """What the rich markup mode shows of a help text."""
    text = inspect.cleandoc(text or "").partition("\f")[0].replace("\b", "")
    return Text.from_markup(text).plain


def _words(text: str) -> Counter[str]:
    words = (w.strip(_WRAPPERS) for w in _BOX.sub(" ", text).split())
    return Counter(w for w in words if w)


def _content(line: str) -> str:
    """A line without the panel's borders."""
    return line.removeprefix("│").removesuffix("│").rstrip() if line.startswith("│") else line


def _option_names(lines: list[str]) -> set[str]:
    """The option names at the start of the rows of the name column (not in help texts)."""
    names: set[str] = set()
    for line in lines:
        if not line.startswith("│"):
            continue
        match = re.match(r"( *\*? *)(-.*)", _content(line))
        if match is None or len(match.group(1)) > 4:
            continue
        for token in match.group(2).split():
            token = token.rstrip(",")
            if _OPTION.fullmatch(token):
                names.add(token)
            elif token != "/" and not _TYPES.fullmatch(token) and not token.isupper():
                break
    return names


def _joined(lines: list[str]) -> str:
    return " ".join(_content(line).strip() for line in lines)


def _ragged(paragraph: list[str], width: int) -> list[str]:
    """The lines of ``paragraph`` but its last that are shorter than half ``width`` where the
    next line is neither a list item nor indented code (a line break kept from the source)."""
    short = []
    for line, after in pairwise(paragraph):
        deliberate = re.match(r"\s*(?:[-*+•]|\d+[.)])\s", after) or (
            len(after) - len(after.lstrip()) > len(line) - len(line.lstrip())
        )
        if cell_len(line.strip()) < width // 2 and not deliberate:
            short.append(line)
    return short


def _description(lines: list[str]) -> list[list[str]]:
    """The paragraphs of the command's help text (between the usage and the first panel)."""
    start = next(i for i, line in enumerate(lines) if "Usage:" in line)
    while start < len(lines) and lines[start].strip():
        start += 1  # a long usage line wraps
    paragraphs: list[list[str]] = [[]]
    for line in lines[start:]:
        if line.startswith("╭"):
            break
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def _command_entries(lines: list[str], width: int) -> list[tuple[int, list[str]]]:
    """Each row of the Commands panel: the width of its description column and its lines there."""
    entries: list[tuple[int, list[str]]] = []
    inside, start = False, 0
    for line in lines:
        if line.startswith("╭") and "Commands" in line:
            inside = True
            continue
        if not inside:
            continue
        if line.startswith("╰"):
            break
        content = _content(line)
        row = re.match(r"( ?\S+ +)", content)
        if row is not None:
            start = row.end()
            entries.append((width - 3 - start, [content[start:]]))
        elif entries:
            entries[-1][1].append(content[start:])
    return entries


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_help_fits_the_width_and_keeps_words_whole(case: tuple) -> None:
    path, command, width = case
    lines = render_help(path, width)
    where = f"instructvid {' '.join(path)} --help at {width} columns"

    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, f"{where}: lines wider than {width}:\n" + "\n".join(too_wide)

    params = _params(command)
    expected = {n for p in params if p.param_type_name == "option" for n in p.opts}
    expected |= {n for p in params if p.param_type_name == "option" for n in p.secondary_opts}
    assert _option_names(lines) == expected, f"{where}: option names not whole in the name column"

    texts = [_plain(command.help), *(_plain(getattr(p, "help", None)) for p in params)]
    for sub in (getattr(command, "commands", None) or {}).values():
        if not sub.hidden:
            summary = sub.short_help or _plain(sub.help).split("\n\n")[0]
            texts.append(summary)
    missing = _words("\n".join(texts)) - _words("\n".join(lines))
    assert not missing, f"{where}: words cut across lines: {sorted(missing)}\n" + "\n".join(lines)

    for paragraph in _description(lines):
        short = _ragged(paragraph, width)
        assert not short, f"{where}: ragged help paragraph:\n" + "\n".join(paragraph)
    for column, entry in _command_entries(lines, width):
        short = [x for x in entry[:-1] if cell_len(x.strip()) < column // 2]
        assert not short, f"{where}: ragged command summary:\n" + "\n".join(entry)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "app")
def test_help_shows_every_option_type_and_default_typer_shows(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = render_help(path, 80)
    with monkeypatch.context() as typer_layout:
        for name, original in help_layout.TYPER_ORIGINALS.items():
            typer_layout.setattr(rich_utils, name, original)
        theirs = render_help(path, 1000)  # wide enough that typer cuts nothing
    assert _option_names(ours) == _option_names(theirs)
    shown = Counter(_MARKERS.findall(_joined(theirs)))
    assert Counter(_MARKERS.findall(_joined(ours))) == shown
    on_one_line = Counter(mark for line in ours for mark in _MARKERS.findall(line))
    assert on_one_line == shown, "a [default: …] or [required] mark broken across lines"
    assert Counter(_TYPES.findall(_joined(ours))) == Counter(_TYPES.findall(_joined(theirs)))


def test_help_paths_stay_whole_at_80_columns() -> None:
    text = "\n".join(render_help(("steps", "benchmark"), 80))
    for path in (
        "OUT/<method>.json",
        "OUT/results.md",
        "DIR/<task>/<vid>.npy",
        "--hard-constraints",
    ):
        assert path in text


_WORD = st.text(alphabet="abcxyz<>/.()", min_size=1, max_size=8)


@given(st.lists(_WORD, min_size=1, max_size=30), st.lists(st.booleans(), min_size=30, max_size=30))
def test_unwrap_joins_a_wrapped_paragraph_into_one_line(
    words: list[str], breaks: list[bool]
) -> None:
    wrapped = words[0] + "".join(
        ("\n" if brk else " ") + w for w, brk in zip(words[1:], breaks, strict=False)
    )
    assert unwrap_paragraph(wrapped) == " ".join(words)


def test_unwrap_keeps_list_items_code_and_click_blocks() -> None:
    text = "Writes:\n- OUT/a.json, the\n  recall\n- OUT/b.md\nafter the list"
    assert unwrap_paragraph(text) == "Writes:\n- OUT/a.json, the recall\n- OUT/b.md after the list"
    code = "Example:\n    instructvid steps run DATA\n    --out OUT\nthen read it."
    assert unwrap_paragraph(code) == code
    assert unwrap_paragraph("\b\nkeep\nthese lines") == "keep\nthese lines"


@given(st.lists(st.integers(1, 120), min_size=1, max_size=20), st.integers(20, 300))
def test_name_column_is_the_widest_name_that_fits(widths: list[int], width: int) -> None:
    column = name_column_width(widths, width)
    cap = max(help_layout.MIN_NAME_WIDTH, int(width * help_layout.NAME_SHARE))
    assert column <= cap
    fitting = [w for w in widths if w <= cap]
    assert column == (max(fitting) if fitting else min(cap, help_layout.INDENT_WITHOUT_NAMES))
