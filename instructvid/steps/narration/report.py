"""Tables of constraint quality: rows per method, the markdown report and the thesis's Table A.1."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["PAPER_TABLE_A1", "markdown_table", "mean_table"]

#: Table A.1 (precision, recall, %) and the release's constraint quality (A.1.1).
PAPER_TABLE_A1: dict[str, dict[str, float]] = {
    "wordvec": {"precision": 0.116, "recall": 0.104},
    "tfidf": {"precision": 0.133, "recall": 0.114},
    "learned": {"precision": 0.159, "recall": 0.139},
    "released": {"iou": 0.079, "outside": 0.61},
}


def mean_table(results: Mapping[str, dict]) -> list[dict[str, float | str]]:
    """Rows ``{"method", metric: mean over tasks, ...}`` for a side-by-side table."""
    return [{"method": name, **res["mean"]} for name, res in results.items()]


_HEADERS = {
    "precision": "P",
    "recall": "R",
    "f1": "F1",
    "frame_precision": "frame P",
    "frame_recall": "frame R",
    "iou": "IoU",
    "outside": "outside",
}


def markdown_table(result: Mapping[str, Any]) -> str:
    """The side-by-side table (percent, mean over tasks) and the thesis's values."""

    def pct(v: float | None) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"

    lines = [
        f"Constraint quality on {result['n_videos']} annotated test videos "
        "(%, mean over primary tasks)",
        "",
        "| method | " + " | ".join(_HEADERS.values()) + " |",
        "|---|" + "---|" * len(_HEADERS),
    ]
    for row in result["table"]:
        lines.append(f"| {row['method']} | " + " | ".join(pct(row[m]) for m in _HEADERS) + " |")
    lines += ["", "Thesis (Table A.1, A.1.1; CrossTask):", ""]
    lines += [
        "| method | " + " | ".join(_HEADERS.values()) + " |",
        "|---|" + "---|" * len(_HEADERS),
    ]
    for name, vals in result["paper"].items():
        lines.append(f"| {name} | " + " | ".join(pct(vals.get(m)) for m in _HEADERS) + " |")
    return "\n".join(lines) + "\n"
