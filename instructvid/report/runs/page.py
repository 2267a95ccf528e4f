"""Pieces every run report shares: figures saved next to the page, package versions, JSON as
tables, and the page itself (:func:`write_page`, via :func:`instructvid.report.html.write_report`,
which embeds every image so the page is self-contained)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from instructvid.io.atomic import atomic_save_figure
from instructvid.report.html import write_report

__all__ = [
    "FIGURES",
    "Page",
    "dict_table",
    "package_versions",
    "pct",
    "read_json",
    "save_figure",
    "table",
]

#: Folder (under the RUN folder) where the report's PNGs are written before being embedded.
FIGURES = "report_figures"

_PACKAGES = (
    "instructvid",
    "numpy",
    "torch",
    "av",
    "matplotlib",
    "scipy",
    "numba",
    "opencv-python-headless",
)


def read_json(path: Path, default: Any = None) -> Any:
    """A JSON file's content, or ``default`` when missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def pct(x: float | None) -> str:
    """A fraction as a percentage with one decimal; ``–`` for None/NaN."""
    if x is None or x != x:
        return "–"
    return f"{100 * float(x):.1f}"


def save_figure(fig: Any, path: Path) -> Path:
    """Write a matplotlib figure as PNG (atomically) and close it."""
    return atomic_save_figure(path, fig, dpi=100)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown pipe table (cells converted with ``str``; pipes escaped away)."""

    def cell(v: object) -> str:
        return str(v).replace("|", "/").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def dict_table(obj: Mapping[str, Any], *, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten a nested mapping into ``(dotted key, value)`` rows."""
    rows: list[tuple[str, str]] = []
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows += dict_table(value, prefix=f"{name}.")
        else:
            rows.append((name, json.dumps(value) if not isinstance(value, str) else value))
    return rows


def package_versions() -> list[tuple[str, str]]:
    """``(package, version)`` of the packages the results depend on (``–`` when absent)."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in _PACKAGES:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "–"))
    return out


class Page:
    """A report being built: (heading, markdown) sections with figures in ``RUN/report_figures``."""

    def __init__(self, root: Path, title: str) -> None:
        self.root = Path(root)
        self.title = title
        self.sections: list[tuple[str, str]] = []

    def add(self, heading: str, markdown: str) -> None:
        self.sections.append((heading, markdown))

    def figure(self, fig: Any, name: str, alt: str) -> str:
        """Save ``fig`` as ``report_figures/<name>.png``; the markdown line that embeds it."""
        save_figure(fig, self.root / FIGURES / f"{name}.png")
        return f"![{alt}]({FIGURES}/{name}.png)"

    def write(self, path: Path | None = None, *, config: Mapping[str, Any] | None = None) -> Path:
        """Append configuration and versions, then write the self-contained HTML page."""
        if config:
            self.add("Configuration", table(("setting", "value"), dict_table(config)))
        self.add("Package versions", table(("package", "version"), package_versions()))
        return write_report(
            path or self.root / "report.html", self.title, self.sections, base=self.root
        )
