"""What every benchmark script shares: the machine's CPU name and the BENCHMARKS.md section it
rewrites (each script owns one ``## Title`` section and leaves the others as they are)."""

from __future__ import annotations

import platform
import re
from pathlib import Path

from instructvid.io.atomic import atomic_write_text

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_section(title: str, text: str, path: Path = BENCHMARKS) -> Path:
    """Replace the section that starts with the line ``title`` (``## …``) by ``text`` (which
    starts with that line), or append it; atomic; returns the path."""
    body = text.rstrip("\n") + "\n"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(title)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _m: body + "\n", old, count=1).rstrip("\n") + "\n"
    else:
        new = old.rstrip("\n") + "\n\n" + body
    atomic_write_text(path, new)
    return path
