"""``instructvid steps benchmark | tune | transfer``: the multi-split protocols.

``benchmark`` runs the 20-split protocol (Tables 3.3–3.4, with ``--actionness`` eq. 4.4 and
``--step-scores`` external models, Table 4.2), ``tune`` chooses hyper-parameters on the
validation videos, ``transfer`` traces the novel-task curve (Fig. 3.8). The library does the
work (:mod:`instructvid.steps.benchmark.protocol`, ``tune``, ``transfer``); these parse, call and print.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.steps.actionness import (
    ACTIONNESS_OPT,
    ALPHA_OPT,
    STANDARDIZE_OPT,
    actionness_settings,
)
from instructvid.cli.steps.options import (
    CONSTRAINTS_OPT,
    DATA_ARG,
    FEATURES_OPT,
    N_TRAIN_OPT,
    RELEASE_OPT,
    SEED_OPT,
    TRAINING_OPTS,
    TrainingFlags,
    open_dataset,
    training_options,
)
from instructvid.cli.stop import fail, stop_cleanly
from instructvid.progress import across_methods, console, progress_bar

__all__ = ["benchmark", "transfer", "tune"]


@training_options()
def benchmark(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="Folder for <method>.json, results.md and plots."),
    methods: str = typer.Option(
        "uniform",
        "--methods",
        help="Comma-separated methods: uniform, random, supervised, task, step, component, "
        "component-task, alayrac (and step-primary, component-primary).",
    ),
    splits: int = typer.Option(20, "--splits", help="Number of random splits (20 in the thesis)."),
    n_train: int = typer.Option(
        30, "--n-train", help="Training videos per primary task (30 in the thesis)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the splits and of random methods."),
    training: TrainingFlags = TRAINING_OPTS,
    actionness: Path | None = ACTIONNESS_OPT,
    alpha: float | None = ALPHA_OPT,
    standardize_actionness: bool = STANDARDIZE_OPT,
    step_scores: list[str] = typer.Option(
        [],
        "--step-scores",
        help="NAME=DIR (repeatable): method NAME whose (T, K) step scores are read from "
        "DIR/<task>/<vid>.npy or DIR/<vid>.npy (e.g. a text–video embedding model, Table 4.2); "
        "labelled by the exactly-one DP. Added to --methods.",
    ),
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
) -> None:
    """The 20-split protocol (thesis §3.6.1): recall per task, mean ± std over splits.

    Writes OUT/<method>.json (recall as fractions, with std and per_split), OUT/results.md
    (Table 3.3 layout, paper rows beside ours; Table 3.4 when its six methods ran),
    OUT/recall.png (per task) and OUT/methods.png (per method). Interrupted runs resume
    (finished splits are cached, trained methods checkpoint every epoch). With --actionness,
    also OUT/<method>+actionness.json for every method with step scores (eq. 4.4).
    """
    from instructvid.report.benchmark import write_benchmark_report
    from instructvid.steps.benchmark.external import parse_step_scores_option, with_step_scores
    from instructvid.steps.benchmark.protocol import run_benchmark
    from instructvid.steps.benchmark.registry import default_registry

    if alpha is not None and actionness is None:
        raise typer.BadParameter(
            "--alpha is the weight of --actionness; give both", param_hint="--alpha"
        )
    dataset = open_dataset(data, release, features, constraints)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    registry = default_registry()
    for text in step_scores:
        try:
            name, folder = parse_step_scores_option(text)
            registry = with_step_scores(registry, name, folder)
        except (ValueError, FileNotFoundError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--step-scores") from None
        if name not in names:
            names.append(name)
    settings = (
        actionness_settings(actionness, alpha, standardize_actionness, Path(out) / "actionness")
        if actionness is not None
        else None
    )
    options = training.method_options(seed)
    try:
        with stop_cleanly("benchmark"), progress_bar("benchmark") as update:
            summaries = run_benchmark(
                dataset,
                out,
                methods=names,
                n_splits=splits,
                n_train=n_train,
                seed=seed,
                options=options,
                progress=across_methods(update, names),
                actionness=settings,
                registry=registry,
            )
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--methods") from None
    except FileNotFoundError as exc:
        raise fail(exc) from None
    titles = {t: task.title for t, task in dataset.tasks.items()}
    steps_of = {t: k.steps for t, k in dataset.tasks.items()}
    report = write_benchmark_report(
        out, summaries, titles, sharing=training.related, steps=steps_of, stem=not training.no_stem
    )
    table = Table(title=f"Recall (%) over {splits} splits")
    table.add_column("method")
    table.add_column("recall %", justify="right")
    table.add_column("± std", justify="right")
    table.add_column("mAP %", justify="right")
    if settings is not None:
        table.add_column("α per split", justify="right")
    for name, summary in summaries.items():
        mp = summary.get("map")
        cells = [
            name,
            f"{100 * summary['mean']:.1f}",
            f"{100 * summary['std']:.1f}",
            f"{100 * mp['mean']:.1f}" if isinstance(mp, dict) else "–",
        ]
        if settings is not None:
            chosen = summary.get("alpha")
            cells.append(
                ", ".join(f"{a:g}" for a in chosen["per_split"]) if isinstance(chosen, dict) else ""
            )
        table.add_row(*cells)
    console.print(table)
    if settings is not None:
        skipped = [m for m in names if m not in registry.scoring()]
        if skipped:
            console.print(
                f"no step scores, actionness does not apply: {', '.join(skipped)}",
                highlight=False,
            )
    console.print(f"results: {report.results}")


@training_options()
def tune(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="Folder for tune.json and per-point caches."),
    grid: str = typer.Option(
        "lr=1e-4,1e-3;dropout=0.3,0.5",
        "--grid",
        help='Hyper-parameter grid, e.g. "lr=1e-5,1e-4;dropout=0.3,0.5" (Cartesian product).',
    ),
    method: str = typer.Option("component", "--method", help="The method to tune."),
    n_train: int = N_TRAIN_OPT,
    seed: int = SEED_OPT,
    training: TrainingFlags = TRAINING_OPTS,
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
) -> None:
    """Choose hyper-parameters on the fixed validation videos only (never the test videos)."""
    from instructvid.steps.benchmark.tune import parse_grid
    from instructvid.steps.benchmark.tune import tune as run_tune

    try:
        parsed = parse_grid(grid)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--grid") from None
    dataset = open_dataset(data, release, features, constraints)
    options = training.method_options(seed)
    with stop_cleanly("tune"), progress_bar("grid points") as update:
        result = run_tune(
            dataset,
            out,
            grid=parsed,
            method=method,
            n_train=n_train,
            seed=seed,
            options=options,
            progress=update,
        )
    table = Table(title=f"Validation recall (%) of {method} ({result['n_val_videos']} videos)")
    for name in parsed:
        table.add_column(name, justify="right")
    table.add_column("recall %", justify="right")
    for point in result["points"]:
        best = point["params"] == result["best"]["params"]
        cells = [f"{point['params'][n]:g}" for n in parsed]
        value = f"{100 * point['mean']:.1f}"
        table.add_row(*cells, f"[bold]{value} ←[/bold]" if best else value)
    console.print(table)
    chosen = ", ".join(f"{k}={v:g}" for k, v in result["best"]["params"].items())
    console.print(f"choice: [bold]{chosen}[/bold]; written to {Path(out) / 'tune.json'}")


@training_options(related=False)
def transfer(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="Folder for transfer.json and transfer.png."),
    counts: str | None = typer.Option(
        None, "--counts", help="Numbers of related tasks, e.g. 1,5,20,65 (default 1,2,5,…,all)."
    ),
    splits: int = typer.Option(1, "--splits", help="Number of random splits."),
    n_train: int = N_TRAIN_OPT,
    seed: int = typer.Option(0, "--seed", help="Seed of the splits and of training."),
    training: TrainingFlags = TRAINING_OPTS,
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
) -> None:
    """Novel-task transfer (Fig. 3.8): train on n related tasks only, test on primary tasks."""
    from instructvid.report.benchmark import write_transfer_report
    from instructvid.steps.benchmark.transfer import transfer_curve

    try:
        parsed = [int(c) for c in counts.split(",") if c.strip()] if counts else None
    except ValueError:
        raise typer.BadParameter("expected integers, e.g. 1,5,20", param_hint="--counts") from None
    dataset = open_dataset(data, release, features, constraints)
    options = training.method_options(seed, related=True)
    with stop_cleanly("transfer"), progress_bar("transfer points") as update:
        result = transfer_curve(
            dataset,
            out,
            counts=parsed,
            n_splits=splits,
            n_train=n_train,
            seed=seed,
            options=options,
            progress=update,
        )
    write_transfer_report(out, result)
    table = Table(title="Novel-task transfer: recall (%) on primary tasks")
    table.add_column("related tasks", justify="right")
    table.add_column("recall %", justify="right")
    table.add_column("± std", justify="right")
    table.add_column("words covered %", justify="right")
    for n, m, sd, cov in zip(
        result["counts"], result["mean"], result["std"], result["word_coverage"], strict=True
    ):
        table.add_row(str(n), f"{100 * m:.1f}", f"{100 * sd:.1f}", f"{100 * cov:.0f}")
    console.print(table)
    for key, label in (("uniform", "uniform"), ("target", "trained on the target tasks")):
        if key in result:
            console.print(
                f"{label}: {100 * result[key]['mean']:.1f} ± {100 * result[key]['std']:.1f}"
            )
    console.print(f"written to {Path(out) / 'transfer.json'} and {Path(out) / 'transfer.png'}")
