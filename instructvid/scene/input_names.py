"""Names of reconstruction inputs: the folder or file name, made unique from the path.

Models are stored under ``OUT/models/<name>``, so two inputs need two names. An input is named
after its folder (or its video file's stem); inputs that would share a name (``…/P8/images`` and
``…/P25/images``) take the parts of their paths that tell them apart (``P8-images``,
``P25-images``). ``NAME=PATH`` names an input explicitly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from instructvid.io.ids import check_id
from instructvid.types import PathLike

__all__ = ["input_names", "parse_input"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def parse_input(text: PathLike) -> tuple[str | None, Path]:
    """``NAME=PATH`` → (NAME, PATH); a plain path (also one that exists with a ``=`` in it)
    → (None, path)."""
    text = str(text)
    name, sep, rest = text.partition("=")
    if sep and rest and not Path(text).exists() and "/" not in name:
        if not _NAME.match(name):
            raise ValueError(
                f"input name {name!r} (in {text!r}): expected letters, digits, '.', '_' or '-'"
            )
        return name, Path(rest)
    return None, Path(text)


def _base(path: Path) -> str:
    p = Path(os.path.abspath(path))  # so that ``..`` names the real folder
    return p.name if p.is_dir() else p.stem


def input_names(inputs: Sequence[PathLike]) -> list[tuple[str, Path]]:
    """(name, path) of every input, names unique (see the module docstring).

    Raises:
        ValueError: two inputs given the same explicit name, or the same path twice.
        FormatError: a name that is not a valid id (:func:`instructvid.io.ids.check_id`):
            output folders are named after it.
    """
    parsed = [parse_input(x) for x in inputs]
    names = [name or _base(path) for name, path in parsed]
    for base in {n for n in names if names.count(n) > 1}:
        group = [i for i, n in enumerate(names) if n == base and parsed[i][0] is None]
        explicit = [i for i, n in enumerate(names) if n == base and parsed[i][0] is not None]
        if len(explicit) > 1:
            raise ValueError(f"two inputs are named {base!r}; give each its own NAME=PATH")
        parts = {i: parsed[i][1].resolve().parts[:-1] for i in group}
        for depth in range(1, max((len(p) for p in parts.values()), default=0) + 1):
            tails = {i: p[-depth:] for i, p in parts.items()}
            if len(set(tails.values())) == len(tails) and (not explicit or depth > 0):
                for i, tail in tails.items():
                    names[i] = "-".join([*tail, base])
                break
        else:
            raise ValueError(f"the same input is given twice: {parsed[group[0]][1]}")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"two inputs share a name (models are stored by name): {dupes}")
    return [
        (check_id(name, path=path, what="input name"), path)
        for name, (_, path) in zip(names, parsed, strict=True)
    ]
