"""``instructvid steps``: cross-task step localization (statistics, checks, benchmark)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli._progress import console, progress_bar

app = typer.Typer(help="Cross-task weakly supervised step localization (CrossTask).")

DATA_ARG = typer.Argument(
    ..., help="DATA folder holding crosstask_release/, crosstask_features/, crosstask_constraints/."
)
RELEASE_OPT = typer.Option(None, "--release", help="Override DATA/crosstask_release.")
FEATURES_OPT = typer.Option(None, "--features", help="Override DATA/crosstask_features.")
CONSTRAINTS_OPT = typer.Option(None, "--constraints", help="Override DATA/crosstask_constraints.")


def _open(data: Path, release: Path | None, features: Path | None, constraints: Path | None):
    from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError

    try:
        return CrossTaskData.open(data, release=release, features=features, constraints=constraints)
    except CrossTaskFormatError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command("stats")
def stats(
    data: Path = DATA_ARG,
    json_out: Path | None = typer.Option(None, "--json", help="Also write the statistics as JSON."),
    markdown_out: Path | None = typer.Option(
        None, "--markdown", help="Also write a markdown table."
    ),
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
) -> None:
    """Dataset statistics of the primary tasks, beside the paper's Table 3.2 (in parentheses)."""
    from instructvid.io.atomic import atomic_write_json, atomic_write_text
    from instructvid.io.crosstask import CrossTaskFormatError
    from instructvid.report.tables import STATS_COLUMNS, stats_cells_split, stats_markdown
    from instructvid.steps.stats import dataset_statistics

    dataset = _open(data, release, features, constraints)
    try:
        with progress_bar("statistics") as update:
            result = dataset_statistics(dataset, progress=update)
    except CrossTaskFormatError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
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
    if json_out is not None:
        atomic_write_json(json_out, result.to_json())
    if markdown_out is not None:
        atomic_write_text(markdown_out, stats_markdown(result))


@app.command("check")
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

    with progress_bar("checking videos") as update:
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


@app.command("benchmark")
def benchmark(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="Folder for <method>.json, results.md and plots."),
    methods: str = typer.Option(
        "uniform", "--methods", help="Comma-separated methods (available: uniform, random)."
    ),
    splits: int = typer.Option(20, "--splits", help="Number of random splits (20 in the thesis)."),
    n_train: int = typer.Option(
        30, "--n-train", help="Training videos per primary task (30 in the thesis)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the splits and of random methods."),
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
) -> None:
    """The 20-split protocol (thesis §3.6.1): recall per task, mean ± std over splits.

    Writes OUT/<method>.json (recall as fractions, with std and per_split), OUT/results.md
    (Table 3.3 layout, paper rows beside ours) and OUT/recall.png. Interrupted runs resume.
    """
    from instructvid.io.atomic import atomic_write_text
    from instructvid.report.plots import recall_bar_plot
    from instructvid.report.tables import results_markdown
    from instructvid.steps.protocol import run_benchmark

    dataset = _open(data, release, features, constraints)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    try:
        with progress_bar("benchmark") as update:
            summaries = run_benchmark(
                dataset,
                out,
                methods=names,
                n_splits=splits,
                n_train=n_train,
                seed=seed,
                progress=lambda m, done, total: update(done, total),
            )
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--methods") from None
    titles = {t: task.title for t, task in dataset.tasks.items()}
    atomic_write_text(Path(out) / "results.md", results_markdown(summaries, titles))
    recall_bar_plot(summaries, titles, Path(out) / "recall.png")
    table = Table(title=f"Recall (%) over {splits} splits")
    table.add_column("method")
    table.add_column("recall %", justify="right")
    table.add_column("± std", justify="right")
    for name, summary in summaries.items():
        table.add_row(name, f"{100 * summary['mean']:.1f}", f"{100 * summary['std']:.1f}")
    console.print(table)
    console.print(f"results: {Path(out) / 'results.md'}")
