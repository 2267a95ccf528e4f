"""The report of a ``steps benchmark`` output folder: recall per task and method (mean ± std over
splits) beside Table 3.3, as a table and as bars."""

from __future__ import annotations

from pathlib import Path

from instructvid.report.runs.page import Page, pct, read_json, table

__all__ = ["benchmark_report", "benchmark_summaries"]


def benchmark_summaries(run: Path) -> dict[str, dict]:
    """``{method: summary}`` of the ``<method>.json`` files of a benchmark folder."""
    out = {}
    for path in sorted(run.glob("*.json")):
        data = read_json(path, {})
        if isinstance(data, dict) and "per_task" in data and "mean" in data:
            out[data.get("method", path.stem)] = data
    return out


def benchmark_report(run: Path, *, out: Path | None = None) -> Path:
    """Write the report of a benchmark folder (``RUN/report.html`` unless ``out``)."""
    from instructvid.report.plots import recall_bar_plot
    from instructvid.steps.paper import paper_recall

    summaries = benchmark_summaries(run)
    page = Page(run, f"steps benchmark — {run.name}")
    rows = [
        (m, pct(s["mean"]), pct(s.get("std")), len(s.get("splits", []) or []), pct(paper_recall(m)))
        for m, s in summaries.items()
    ]
    page.add(
        "Recall (%) per method beside Table 3.3",
        table(("method", "recall", "± std", "splits", "thesis"), rows),
    )
    titles = {}
    for s in summaries.values():
        titles.update(s.get("titles", {}) or {})
    if summaries:
        from instructvid.report.runs.page import FIGURES

        path = recall_bar_plot(summaries, titles, run / FIGURES / "recall_per_task.png")
        page.add("Recall per task", f"![recall per task]({FIGURES}/{path.name})")
        tasks = sorted({t for s in summaries.values() for t in s["per_task"]})
        per_task = [
            (titles.get(t, t), *(pct(s["per_task"].get(t)) for s in summaries.values()))
            for t in tasks
        ]
        page.add("Recall per task (%)", table(("task", *summaries), per_task))
    settings = next((s.get("settings") for s in summaries.values() if s.get("settings")), None)
    return page.write(out, config=settings)
