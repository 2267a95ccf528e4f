"""``instructvid steps``: cross-task step localization.

The ``steps`` app. Commands: ``check``, ``stats`` (dataset) and ``evaluate`` (one run) live
here; ``train`` in :mod:`~instructvid.cli.steps.train`, ``localize`` in
:mod:`~instructvid.cli.steps.localize`, ``benchmark`` (the 20-split protocol), ``tune``
(validation grid) and ``transfer`` (novel tasks) in :mod:`~instructvid.cli.steps.benchmark`;
shared options in :mod:`~instructvid.cli.steps.options`. The ``constraints`` commands are added
by :func:`instructvid.cli.steps.constraints.register`. The library does the work
(:mod:`instructvid.steps`); these functions parse, call and print.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.steps.benchmark import benchmark, transfer, tune
from instructvid.cli.steps.localize import localize
from instructvid.cli.steps.options import (
    CONSTRAINTS_OPT,
    DATA_ARG,
    FEATURES_OPT,
    RELEASE_OPT,
    open_dataset,
)
from instructvid.cli.steps.run import run
from instructvid.cli.steps.train import train
from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["app", "check", "evaluate", "stats"]

app = typer.Typer(help="Cross-task weakly supervised step localization (CrossTask).")


def stats(
    data: Path = DATA_ARG,
    json_out: Path | None = typer.Option(None, "--json", help="Also write the statistics as JSON."),
    markdown_out: Path | None = typer.Option(
        None, "--markdown", help="Also write a markdown table."
    ),
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
    order: str = typer.Option(
        "lis",
        "--order",
        help="Order consistency: lis (longest in-order subsequence / steps, default) or "
        "pairwise (pairs in order / pairs).",
    ),
) -> None:
    """Dataset statistics of the primary tasks; the paper's Table 3.2 values on a second row;
    the dataset's totals (videos, hours, annotated and shared videos) beside the paper's."""
    from instructvid.io.atomic import atomic_write_json, atomic_write_text
    from instructvid.report.dataset import order_note, totals_lines
    from instructvid.report.tables import STATS_COLUMNS, stats_cells_split, stats_markdown
    from instructvid.steps.stats import ORDER_DEFINITIONS, dataset_statistics

    if order not in ORDER_DEFINITIONS:
        raise typer.BadParameter(
            f"expected one of {', '.join(ORDER_DEFINITIONS)}", param_hint="--order"
        )
    dataset = open_dataset(data, release, features, constraints)
    with stop_cleanly("stats"), progress_bar("statistics") as update:
        result = dataset_statistics(dataset, progress=update, order=order)
    table = Table(title="Dataset statistics (Table 3.2); paper values on the dim rows")
    table.add_column("task", no_wrap=True, max_width=26, overflow="ellipsis")
    for _, _, short in STATS_COLUMNS:
        table.add_column(short, justify="right", no_wrap=True)
    for row in [*result.tasks, result.total]:
        ours, paper = stats_cells_split(row)
        table.add_row(row.title, *ours, end_section=paper is None and row is result.tasks[-1])
        if paper is not None:
            table.add_row("  paper", *paper, style="dim", end_section=row is result.tasks[-1])
    typer.echo("")
    console.print(table, soft_wrap=False)
    console.print(
        f"{result.total.n_videos} annotated videos, {result.total.hours:.1f} hours "
        "(paper: 2,763 videos, 213 hours)"
    )
    extra = [*totals_lines(result), order_note(result)]
    for line in extra:
        console.print(line, highlight=False)
    if json_out is not None:
        atomic_write_json(json_out, result.to_json())
    if markdown_out is not None:
        notes = "".join(f"- {line}\n" for line in extra)
        atomic_write_text(markdown_out, stats_markdown(result) + "\n" + notes)


def check(
    data: Path = DATA_ARG,
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
    no_finite: bool = typer.Option(
        False, "--no-finite", help="Skip scanning feature files for NaN/inf (faster)."
    ),
) -> None:
    """Validate a whole dataset and list every problem found. Exit 1 when there is an error."""
    from instructvid.io.crosstask_check import check_dataset

    with stop_cleanly("check"), progress_bar("checking videos") as update:
        problems = check_dataset(
            data,
            release=release,
            features=features,
            constraints=constraints,
            check_finite=not no_finite,
            progress=update,
        )
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        colour = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{colour}]{problem}[/{colour}]", highlight=False, soft_wrap=True)
    console.print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    if errors:
        raise typer.Exit(1)


def evaluate(
    run: Path = typer.Argument(..., metavar="RUN", help="A RUN folder written by `steps train`."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Where to write the result JSON (default RUN/evaluation.json)."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="DATA folder, if it moved since training (default: as recorded)."
    ),
) -> None:
    """Recall per primary task on the test split recorded in RUN (and the step mAP)."""
    from instructvid.io.atomic import atomic_write_json
    from instructvid.steps.benchmark.runs import RunLayout, evaluate_run

    with stop_cleanly("evaluate"), progress_bar("test videos") as update:
        result = evaluate_run(run, data_root=data, progress=update)
    target = json_out or RunLayout(run).evaluation
    atomic_write_json(target, result)
    table = Table(title=f"Recall (%) of {result['method']} on {result['n_videos']} test videos")
    table.add_column("task")
    table.add_column("id")
    table.add_column("recall %", justify="right")
    for task_id, value in result["per_task"].items():
        table.add_row(result["task_titles"].get(task_id, ""), task_id, f"{100 * value:.1f}")
    table.add_row("mean", "", f"{100 * result['mean']:.1f}", end_section=True)
    console.print(table)
    console.print(f"step mAP: {100 * result['map']:.1f} %; written to {target}")


# Registration order is the order of ``instructvid steps --help``.
app.command("stats")(stats)
app.command("check")(check)
app.command("benchmark")(benchmark)
app.command("train")(train)
app.command("evaluate")(evaluate)
app.command("localize")(localize)
app.command("tune")(tune)
app.command("transfer")(transfer)
app.command("run")(run)
