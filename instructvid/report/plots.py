"""Plots (matplotlib, headless Agg backend). Each function writes one PNG and returns its path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from instructvid.io.atomic import atomic_open


def recall_bar_plot(
    summaries: Mapping[str, Mapping[str, object]],
    titles: Mapping[str, str],
    path: str | Path,
) -> Path:
    """Grouped bars: recall (%) per task for each method, error bars = std over splits."""
    from instructvid.report.tables import paper_order

    task_ids = sorted(
        {t for s in summaries.values() for t in s["per_task"]},  # type: ignore[union-attr]
        key=lambda t: paper_order(titles.get(t, t)),
    )
    methods = list(summaries)
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(task_ids) + 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(x) + 2), 4.0))
    for i, method in enumerate(methods):
        s = summaries[method]
        vals = [100 * s["per_task"].get(t, np.nan) for t in task_ids]  # type: ignore[union-attr]
        errs = [100 * s.get("per_task_std", {}).get(t, 0.0) for t in task_ids]  # type: ignore[union-attr]
        vals.append(100 * float(s["mean"]))  # type: ignore[arg-type]
        errs.append(100 * float(s.get("std", 0.0)))  # type: ignore[arg-type]
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, vals, width, yerr=errs, label=method)
    ax.set_xticks(x)
    ax.set_xticklabels([titles.get(t, t) for t in task_ids] + ["average"], rotation=45, ha="right")
    ax.set_ylabel("recall (%)")
    ax.set_title("Step localization recall per task (mean ± std over splits)")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)
    return path
