"""Paragraph files, the training text of the ``learned`` representation: reading them into
articles → paragraphs → sentences.

Format (UTF-8)::

    # How to Make Pancakes          <- optional comment lines (e.g. a title), ignored
    Whisk the flour and the sugar. Use a large bowl.
    Add the eggs. Beat them until smooth! Don't overmix.
                                    <- a blank line ends an article
    # How to Change a Tire
    Loosen the lug nuts. ...

One **paragraph per line**, **articles separated by blank lines**; a paragraph's sentences are
split after ``.``, ``!`` or ``?`` followed by white space (:func:`sentence_split`).
"""

from __future__ import annotations

import re
from pathlib import Path

from instructvid.types import PathLike

__all__ = ["read_paragraphs", "sentence_split"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentence_split(paragraph: str) -> list[str]:
    """Sentences of a paragraph: split after ``.``, ``!`` or ``?`` followed by white space."""
    return [s.strip() for s in _SENTENCE_END.split(paragraph.strip()) if s.strip()]


def read_paragraphs(path: PathLike) -> list[list[list[str]]]:
    """Read a paragraph file (module docstring): articles → paragraphs → sentences.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not UTF-8, or no article with at least two paragraphs (with the file name).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from None
    articles: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*lines, ""]:
        text = line.strip()
        if not text:
            if current:
                articles.append(current)
            current = []
        elif not text.startswith("#"):
            sentences = sentence_split(text)
            if sentences:
                current.append(sentences)
    if not any(len(a) >= 2 for a in articles):
        raise ValueError(
            f"{path}: no article with two or more paragraphs; expected one paragraph per line "
            "and articles separated by a blank line"
        )
    return articles
