"""Outputs of the sharing analyses (Table 3.3's gain row, Fig. 3.6) of a step benchmark.

:func:`write_sharing` writes, into the benchmark folder, ``sharing.json`` (the gain row, the
helped-task count, every step's and every shared component's recall under both methods),
``components.csv`` (one line per shared component) and ``components.png`` (bars of the largest
gains and losses), and returns the markdown that ``results.md`` appends.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_save_figure, atomic_write_json, atomic_write_text
from instructvid.steps.benchmark.sharing import (
    ComponentGain,
    component_gains,
    gain_from_sharing,
    step_gains,
    step_recalls,
)
from instructvid.steps.paper import (
    PAPER_SHARING_HELPED,
    PRIMARY_TASK_TITLES,
    TABLE_3_3_GAIN,
    match_paper_title,
)
from instructvid.types import PathLike

__all__ = ["components_plot", "gain_markdown", "write_sharing"]


def _pct(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:+.1f}" if sign else f"{100 * value:.1f}"


def gain_markdown(gain: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    """The gain row in Table 3.3's layout (points of recall), the paper's under it."""
    from instructvid.report.tables import paper_order

    tasks = sorted(gain["per_task"], key=lambda t: paper_order(titles.get(t, t)))
    header = ["", *(titles.get(t, t) for t in tasks), "average"]
    ours = [_pct(gain["per_task"][t], sign=True) for t in tasks]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        "| "
        + " | ".join(
            [f"gain ({gain['shared']} − {gain['unshared']})", *ours, _pct(gain["mean"], sign=True)]
        )
        + " |",
    ]
    paper_cells = []
    paper_gains, paper_mean = TABLE_3_3_GAIN
    for t in tasks:
        title = match_paper_title(titles.get(t, t))
        paper_cells.append(
            "–" if title is None else _pct(paper_gains[PRIMARY_TASK_TITLES.index(title)], sign=True)
        )
    lines.append(
        "| " + " | ".join(["gain (paper)", *paper_cells, _pct(paper_mean, sign=True)]) + " |"
    )
    helped, n = PAPER_SHARING_HELPED
    lines.append("")
    lines.append(
        f"Sharing helps in {gain['helped']} of {gain['n_tasks']} tasks (hurts in {gain['hurt']}); "
        f"paper: {helped} of {n}."
    )
    return "\n".join(lines) + "\n"


def components_plot(
    components: Sequence[ComponentGain], path: PathLike, *, n_each: int = 12, min_steps: int = 1
) -> Path:
    """Bars of the ``n_each`` largest gains and losses of recall (points), labelled with the
    number of steps and tasks of each component (cf. thesis Fig. 3.6)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = list(components)
    chosen = ordered[:n_each] + [c for c in ordered[-n_each:] if c not in ordered[:n_each]]
    chosen.sort(key=lambda c: c.gain)
    fig, ax = plt.subplots(figsize=(7.0, max(3.0, 0.28 * len(chosen) + 1.2)), dpi=120)
    y = np.arange(len(chosen))
    gains = [100 * c.gain for c in chosen]
    ax.barh(y, gains, color=["tab:green" if g > 0 else "tab:red" for g in gains])
    ax.set_yticks(y)
    ax.set_yticklabels(
        [f"{c.component}  ({c.n_steps} steps, {c.n_tasks} tasks)" for c in chosen], fontsize=8
    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("change in step recall, shared − task-specific (points)")
    title = "Components that share well and poorly (cf. thesis Fig. 3.6)"
    if min_steps > 1:
        title += f"\ncomponents of ≥ {min_steps} tested steps, shared by ≥ 2 tasks"
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return atomic_save_figure(path, fig)


def write_sharing(
    summaries: Mapping[str, Mapping[str, Any]],
    steps: Mapping[str, Sequence[str]],
    titles: Mapping[str, str],
    out: PathLike,
    *,
    shared: str = "component",
    unshared: str = "task",
    stem: bool = True,
    min_steps: int = 2,
) -> str | None:
    """Write ``sharing.json``, ``components.csv`` and ``components.png`` under ``out``.

    Args:
        summaries: the benchmark's summaries by method name.
        steps: ``{task_id: step texts}`` of every task of the dataset (primary and related).
        titles: task titles for the table.
        min_steps: the plot and the markdown show the components of at least this many tested
            steps (all of them if none has; one-step components are noisy), the CSV and JSON
            every shared component.

    Returns:
        Markdown for ``results.md`` (the gain row, the helped count, the top components), or
        ``None`` when either method did not run. Without per-step counts (splits cached by an
        older version) only the gain row is written, with a note.
    """
    if shared not in summaries or unshared not in summaries:
        return None
    out = Path(out)
    gain = gain_from_sharing(summaries[shared], summaries[unshared])
    markdown = gain_markdown(gain, titles)
    payload: dict[str, Any] = {"metric": "recall", "gain": gain}
    try:
        rows = step_gains(step_recalls(summaries[shared]), step_recalls(summaries[unshared]), steps)
    except ValueError as exc:
        payload["components_error"] = str(exc)
        atomic_write_json(out / "sharing.json", payload)
        return markdown + f"\nPer-component analysis not available: {exc}\n"
    components = component_gains(rows, steps, stem=stem)
    payload["steps"] = [{**r.__dict__, "gain": r.gain} for r in rows]
    payload["components"] = [c.to_json() for c in components]
    atomic_write_json(out / "sharing.json", payload)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["component", "n_steps", "n_tasks", "recall_unshared", "recall_shared", "gain"])
    for c in components:
        writer.writerow(
            [
                c.component,
                c.n_steps,
                c.n_tasks,
                f"{c.unshared:.4f}",
                f"{c.shared:.4f}",
                f"{c.gain:.4f}",
            ]
        )
    atomic_write_text(out / "components.csv", buf.getvalue())
    shown = [c for c in components if c.n_steps >= min_steps] or components
    if shown:
        components_plot(shown, out / "components.png", min_steps=min_steps)
    lines = [
        "",
        f"Components shared across tasks: {len(components)}, {len(shown)} of them in at least "
        f"{min_steps} tested steps (change of the recall of the steps containing them, {shared} "
        f"− {unshared}; thesis Fig. 3.6: stir +15 over 30 steps):",
        "",
        "| component | steps | tasks | recall unshared | recall shared | gain |",
        "|---|---|---|---|---|---|",
    ]
    for c in shown[:5] + [c for c in shown[-5:] if c not in shown[:5]]:
        lines.append(
            f"| {c.component} | {c.n_steps} | {c.n_tasks} | {_pct(c.unshared)} | "
            f"{_pct(c.shared)} | {_pct(c.gain, sign=True)} |"
        )
    worst = min(rows, key=lambda r: r.gain, default=None)
    if worst is not None:
        lines.append("")
        lines.append(
            f"Step hurt most: {titles.get(worst.task_id, worst.task_id)} / {worst.text!r} "
            f"{_pct(worst.unshared)} → {_pct(worst.shared)} (thesis: cut shelf 47 → 28)."
        )
    return markdown + "\n".join(lines) + "\n"
