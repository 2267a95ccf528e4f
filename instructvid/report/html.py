"""A one-page HTML report built from markdown fragments (tables, lists, paragraphs) and images."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path

from instructvid.io.atomic import atomic_write_text

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
td:first-child,th:first-child{text-align:left}
th{background:#f3f3f3}
img{max-width:100%}
"""


_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<path>[^)]+)\)\s*$")


def image_html(path: str | Path, alt: str = "") -> str:
    """``<p><img></p>`` with the PNG at ``path`` embedded (base64), so the page is self-contained."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"<p><img alt='{html.escape(alt or Path(path).name)}' src='data:image/png;base64,{data}'></p>"


_CODE = re.compile(r"`([^`]+)`")
#: ``[text](target)`` (not an image): a relative link; targets with a scheme are left as text.
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(((?![a-zA-Z][a-zA-Z0-9+.-]*:)[^)\s]+)\)")


def _inline(text: str) -> str:
    """Escape ``text`` for HTML, with Markdown code spans (backticks) as ``<code>`` and relative
    links ``[text](path)`` as ``<a href>``."""
    escaped = _CODE.sub(r"<code>\1</code>", html.escape(text))
    return _LINK.sub(r"<a href='\2'>\1</a>", escaped)


def markdown_to_html(text: str, base: str | Path | None = None) -> str:
    """Convert the small markdown subset our tables use: pipe tables, ``- `` lists, paragraphs,
    headings and image lines ``![alt](path.png)``.

    Images are embedded when ``base`` is given (relative paths are resolved against it) and the
    file exists; otherwise the line is shown as text.
    """
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            body = [r for r in rows if not all(set(c) <= {"-", ":"} for c in r)]
            out.append("<table>")
            for j, row in enumerate(body):
                tag = "th" if j == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in row) + "</tr>")
            out.append("</table>")
            continue
        if line.startswith("- "):
            out.append("<ul>")
            while i < len(lines) and lines[i].startswith("- "):
                out.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("</ul>")
            continue
        image = _IMAGE.match(line)
        if image is not None and base is not None:
            path = Path(base) / image["path"]
            if path.is_file():
                out.append(image_html(path, image["alt"]))
                i += 1
                continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    return "\n".join(out)


def write_report(
    path: str | Path,
    title: str,
    sections: Sequence[tuple[str, str]],
    images: Sequence[Path] = (),
    *,
    base: str | Path | None = None,
) -> Path:
    """Write a self-contained HTML page (images embedded) with (heading, markdown) sections.

    ``images`` are appended at the end; ``![alt](path)`` lines inside the sections are embedded
    in place when ``base`` (the folder their paths are relative to) is given.
    """
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, markdown in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(markdown_to_html(markdown, base=base))
    for image in images:
        parts.append(image_html(image))
    parts.append("</body></html>")
    return atomic_write_text(path, "\n".join(parts) + "\n")
