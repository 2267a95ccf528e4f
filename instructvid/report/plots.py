"""Plots (matplotlib, headless Agg backend). Each function writes one PNG and returns its path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from instructvid.io.atomic import atomic_save_figure


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
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars, never over them
    fig.tight_layout()
    return atomic_save_figure(path, fig, dpi=120)


def transfer_plot(result: Mapping[str, object], path: str | Path) -> Path:
    """Recall (%) vs the number of related training tasks (thesis Fig. 3.8).

    ``result`` as written by :func:`instructvid.steps.benchmark.transfer.transfer_curve`: ``counts``,
    ``mean``, ``std`` (fractions) and optional ``uniform``/``target`` lines (``mean``, ``std``).
    """
    counts = np.asarray(result["counts"], dtype=float)
    mean = 100 * np.asarray(result["mean"], dtype=float)
    std = 100 * np.asarray(result["std"], dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    ax.errorbar(counts, mean, yerr=std, marker="o", capsize=3, label="trained on related tasks")
    styles = {
        "target": ("trained on the target tasks", "tab:green"),
        "uniform": ("uniform", "tab:gray"),
    }
    for key, (label, colour) in styles.items():
        line = result.get(key)
        if isinstance(line, Mapping):
            value = 100 * float(line["mean"])
            ax.axhline(value, color=colour, linestyle="--", label=f"{label} ({value:.1f})")
    ax.set_xscale("log")
    ax.set_xticks(counts)
    ax.set_xticklabels([str(int(c)) for c in counts])
    ax.set_xlabel("number of related tasks used for training")
    ax.set_ylabel("recall on primary tasks (%)")
    ax.set_title("Novel-task transfer (mean ± std over splits)")
    ax.legend(loc="best")
    fig.tight_layout()
    return atomic_save_figure(path, fig, dpi=120)


def method_summary_plot(summaries: Mapping[str, Mapping[str, object]], path: str | Path) -> Path:
    """Horizontal bars: mean recall (%) of each method over splits, error bars = std."""
    methods = list(summaries)
    means = [100 * float(summaries[m]["mean"]) for m in methods]  # type: ignore[arg-type]
    stds = [100 * float(summaries[m].get("std", 0.0)) for m in methods]  # type: ignore[arg-type]
    fig, ax = plt.subplots(figsize=(6.0, 0.45 * len(methods) + 1.2))
    y = np.arange(len(methods))[::-1]
    ax.barh(y, means, xerr=stds, color="tab:blue", capsize=3)
    for yi, value, err in zip(y, means, stds, strict=True):
        ax.text(value + err + 0.8, yi, f"{value:.1f}", va="center", fontsize=8)
    ax.set_xlim(0, max(m + s for m, s in zip(means, stds, strict=True)) * 1.12 + 1)
    ax.set_yticks(y)
    ax.set_yticklabels(methods)
    ax.set_xlabel("recall (%), mean ± std over splits")
    ax.set_title("Step localization recall per method")
    fig.tight_layout()
    return atomic_save_figure(path, fig, dpi=120)
