"""The report of a ``steps train`` RUN folder: the training curve, recall per task of
``steps evaluate`` beside Table 3.3, localizations, the configuration."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from instructvid.report.runs.page import Page, pct, read_json, table

__all__ = ["train_report"]


def train_report(run: Path, *, out: Path | None = None) -> Path:
    """Write the report of a ``steps train`` RUN (``RUN/report.html`` unless ``out``)."""
    from instructvid.steps.paper import paper_recall

    config = read_json(run / "config.json", {})
    history = read_json(run / "history.json", [])
    evaluation = read_json(run / "evaluation.json")
    page = Page(run, f"steps train — {run.name}")
    finished = (run / "model" / "model.npz").is_file()
    page.add(
        "Summary",
        f"training {'finished' if finished else 'not finished'}; {len(history)} epochs recorded.",
    )
    numeric = [k for k in (history[0] if history else {}) if isinstance(history[0][k], int | float)]
    if history and numeric:
        fig, axes = plt.subplots(1, min(3, len(numeric)), figsize=(11, 3), squeeze=False)
        for ax, key in zip(axes[0], numeric[:3], strict=False):
            ax.plot([h.get(key) for h in history])
            ax.set_xlabel("epoch")
            ax.set_title(key, fontsize=9)
        fig.tight_layout()
        page.add("Training", page.figure(fig, "history", "training history"))
    if evaluation:
        rows = [(t, pct(v)) for t, v in evaluation.get("per_task", {}).items()]
        rows.append(("mean", pct(evaluation.get("mean"))))
        page.add(
            f"Recall (%) on {evaluation.get('n_videos')} test videos; Table 3.3 "
            f"{evaluation.get('method')}: {pct(paper_recall(str(evaluation.get('method'))))}",
            table(("task", "recall"), rows),
        )
    return page.write(out, config=config)
