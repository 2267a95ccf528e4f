"""Markdown tables laid out like the thesis's (Tables 3.2 and 3.3), our numbers beside the paper's."""

from __future__ import annotations

from collections.abc import Mapping

from instructvid.steps.paper import PRIMARY_TASK_TITLES, TABLE_3_3, match_paper_title
from instructvid.steps.stats import DatasetStatistics, TaskStatisticsRow


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _mmss(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


#: (attribute, long header, short header) of each statistic, in Table 3.2's order.
STATS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("n_videos", "videos", "videos"),
    ("n_steps", "steps", "steps"),
    ("mean_duration_s", "mean length", "length"),
    ("missing_steps", "missing %", "miss%"),
    ("background", "background %", "bg%"),
    ("order_consistency", "order consistency %", "order%"),
    ("best_parse_recall", "best parse recall %", "parse%"),
    ("constraint_iou", "constraint IoU %", "cIoU%"),
    ("outside_constraints", "outside constraints %", "out%"),
)


def _format_stat(name: str, value: object) -> str:
    if value is None:
        return "–"
    if name == "n_videos":
        return str(int(value))  # type: ignore[call-overload]
    if name == "n_steps":
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    if name == "mean_duration_s":
        return _mmss(float(value))  # type: ignore[arg-type]
    return _pct(float(value))  # type: ignore[arg-type]


def stats_cells(row: TaskStatisticsRow) -> list[str]:
    """One row's cells: ``ours (paper)`` for each column of :data:`STATS_COLUMNS`."""
    ours, paper = stats_cells_split(row)
    if paper is None:
        return ours
    return [o if p == "–" else f"{o} ({p})" for o, p in zip(ours, paper, strict=True)]


def stats_cells_split(row: TaskStatisticsRow) -> tuple[list[str], list[str] | None]:
    """Our cells, and the paper's cells (``None`` when the task is not a paper task)."""
    ours = [_format_stat(name, getattr(row, name)) for name, _, _ in STATS_COLUMNS]
    if not row.paper:
        return ours, None
    return ours, [_format_stat(name, row.paper.get(name)) for name, _, _ in STATS_COLUMNS]


def stats_markdown(stats: DatasetStatistics) -> str:
    """Table 3.2 as markdown: one line per task and the total, paper values in parentheses."""
    header = ["task", *(title for _, title, _ in STATS_COLUMNS)]
    lines = [
        "Dataset statistics (ours, paper Table 3.2 in parentheses where the task is a paper task).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in [*stats.tasks, stats.total]:
        name = row.title if row.task_id == "total" else f"{row.title} ({row.task_id})"
        lines.append("| " + " | ".join([name, *stats_cells(row)]) + " |")
    lines.append("")
    lines.append(
        f"Total: {stats.total.n_videos} annotated videos, {stats.total.hours:.1f} hours "
        "(paper: 2,763 videos, 213 hours)."
    )
    return "\n".join(lines) + "\n"


def results_markdown(
    summaries: Mapping[str, Mapping[str, object]], titles: Mapping[str, str]
) -> str:
    """Table 3.3 layout: a row per method (recall %, mean ± std over splits), a column per task.

    Tasks that match one of the paper's 18 primary tasks are put in the paper's order, and the
    paper's row for the same method is printed under ours.
    """
    task_ids = sorted(
        {t for s in summaries.values() for t in s["per_task"]},  # type: ignore[union-attr]
        key=lambda t: paper_order(titles.get(t, t)),
    )
    header = ["method", *(titles.get(t, t) for t in task_ids), "average"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for method, summary in summaries.items():
        per_task = summary["per_task"]
        cells = [_pct(per_task.get(t)) for t in task_ids]  # type: ignore[union-attr]
        avg = f"{_pct(summary['mean'])} ± {_pct(summary.get('std'))}"  # type: ignore[arg-type]
        lines.append("| " + " | ".join([method, *cells, avg]) + " |")
        if method in TABLE_3_3:
            paper_values, paper_avg = TABLE_3_3[method]
            paper_cells = []
            for t in task_ids:
                title = match_paper_title(titles.get(t, t))
                paper_cells.append(
                    _pct(paper_values[PRIMARY_TASK_TITLES.index(title)]) if title else "–"
                )
            lines.append(
                "| " + " | ".join([f"{method} (paper)", *paper_cells, _pct(paper_avg)]) + " |"
            )
    maps = {m: s["map"] for m, s in summaries.items() if s.get("map")}
    if maps:
        lines.append("")
        lines.append("Step mAP (our reading of Table A.2, see the docs), mean ± std over splits:")
        lines.append("")
        for method, value in maps.items():
            lines.append(
                f"- {method}: {_pct(value['mean'])} ± {_pct(value['std'])}"  # type: ignore[index]
            )
    return "\n".join(lines) + "\n"


def paper_order(title: str) -> tuple[int, str]:
    """Sort key: the paper's task order first (Tables 3.2/3.3), other tasks after, by title."""
    matched = match_paper_title(title)
    return (PRIMARY_TASK_TITLES.index(matched) if matched else len(PRIMARY_TASK_TITLES), title)


#: Table 3.4 of the thesis (recall %): rows step/component, columns unshared primary, shared
#: primary, shared primary + related; with the benchmark method giving each cell.
TABLE_3_4: dict[str, tuple[tuple[str, float], ...]] = {
    "step-based": (("task", 18.6), ("step-primary", 18.9), ("step", 19.8)),
    "component-based": (("component-task", 18.7), ("component-primary", 20.2), ("component", 22.4)),
}


def sharing_markdown(summaries: Mapping[str, Mapping[str, object]]) -> str | None:
    """Table 3.4 layout (recall %, mean ± std; paper in parentheses) from benchmark summaries.

    Needs the six methods ``task``, ``step-primary``, ``step``, ``component-task``,
    ``component-primary``, ``component`` (related tasks on for the last column); returns
    ``None`` when one is missing.
    """
    needed = [m for cells in TABLE_3_4.values() for m, _ in cells]
    if any(m not in summaries for m in needed):
        return None
    lines = [
        "| sharing \\ data | unshared primary | shared primary | shared primary + related |",
        "|---|---|---|---|",
    ]
    for row, cells in TABLE_3_4.items():
        values = [
            f"{_pct(summaries[m]['mean'])} ± {_pct(summaries[m].get('std'))} ({paper:.1f})"  # type: ignore[arg-type]
            for m, paper in cells
        ]
        lines.append("| " + " | ".join([row, *values]) + " |")
    return "\n".join(lines) + "\n"


#: Thesis Table 4.2, CrossTask recall (%) of the CrossTask model without and with actionness.
TABLE_4_2_COMPONENT: tuple[float, float, float] = (22.4, 27.0, 0.8)  # recall, + actionness, α


def actionness_markdown(summaries: Mapping[str, Mapping[str, object]]) -> str | None:
    """Recall without and with actionness (eq. 4.4) per method, with the α chosen per split.

    Uses the ``<method>+actionness`` summaries (``base_method``, ``alpha``); returns ``None``
    when there is none. The paper's row (Table 4.2: the CrossTask model, 22.4 → 27.0 with
    α = 0.8) is printed under ``component``.
    """
    rows = [(s["base_method"], name, s) for name, s in summaries.items() if "base_method" in s]
    if not rows:
        return None
    lines = [
        "| method | recall | + actionness | α per split | α chosen on |",
        "|---|---|---|---|---|",
    ]
    for base, _, ax in rows:
        plain = summaries.get(str(base), {})
        alpha = ax["alpha"]
        per_split = ", ".join(f"{a:g}" for a in alpha["per_split"])  # type: ignore[index]
        plain_cell = (
            f"{_pct(plain['mean'])} ± {_pct(plain.get('std'))}"  # type: ignore[arg-type]
            if plain
            else "–"
        )
        ax_cell = f"{_pct(ax['mean'])} ± {_pct(ax.get('std'))}"  # type: ignore[arg-type]
        lines.append(
            f"| {base} | {plain_cell} | {ax_cell} | {per_split} | {alpha['chosen_on']} |"  # type: ignore[index]
        )
        if base == "component":
            recall, with_ax, paper_alpha = TABLE_4_2_COMPONENT
            lines.append(
                f"| component (paper) | {recall:.1f} | {with_ax:.1f} | {paper_alpha:g} | "
                "validation |"
            )
    return "\n".join(lines) + "\n"
