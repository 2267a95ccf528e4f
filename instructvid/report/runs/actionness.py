"""The report of an ``actionness evaluate`` output folder: frame AP and AR@AN of every method
(Table 4.1), the AR@AN curves (Fig. 4.6) and the folder's own plots."""

from __future__ import annotations

from pathlib import Path

from instructvid.report.runs import figures
from instructvid.report.runs.page import Page, pct, read_json, table

__all__ = ["actionness_report"]


def actionness_report(run: Path, *, out: Path | None = None) -> Path:
    """Write the report of an actionness evaluation (``RUN/report.html`` unless ``out``)."""
    page = Page(run, f"actionness evaluate — {run.name}")
    frame, proposals = {}, {}
    for path in sorted(run.glob("*.json")):
        data = read_json(path, {})
        if not isinstance(data, dict):
            continue
        if data.get("metric") == "frame_ap":
            frame[data.get("method", path.stem)] = data
        elif data.get("metric") == "ar_an_auc":
            proposals[data.get("method", path.stem.removesuffix(".proposals"))] = data
    methods = list(dict.fromkeys([*frame, *proposals]))
    rows = []
    for m in methods:
        f, p = frame.get(m, {}), proposals.get(m, {})
        at = p.get("ar_at", {})
        rows.append(
            (
                m,
                pct(f.get("mean")),
                pct(f.get("per_video_mean")),
                pct(at.get("10")),
                pct(at.get("100")),
                pct(p.get("mean")),
            )
        )
    page.add(
        "Frame AP and AR@AN (%) (Table 4.1)",
        table(("method", "frame AP", "per video", "AR@10", "AR@100", "AUC"), rows),
    )
    curves = {m: (p["an"], p["ar"]) for m, p in proposals.items() if p.get("an") and p.get("ar")}
    if curves:
        page.add("AR@AN (Fig. 4.6)", page.figure(figures.ar_an_curves(curves), "ar_an", "AR@AN"))
    own = sorted(run.glob("*.png"))
    if own:
        page.add("Plots of the evaluation", "\n\n".join(f"![{p.stem}]({p.name})" for p in own))
    return page.write(out)
