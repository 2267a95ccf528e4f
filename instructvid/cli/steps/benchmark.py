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
    A14_OPT,
    BATCH_OPT,
    CONSTRAINTS_OPT,
    DATA_ARG,
    DEVICE_OPT,
    DROPOUT_OPT,
    EPOCHS_INIT_OPT,
    EPOCHS_OPT,
    FEATURES_OPT,
    HARD_CONSTRAINTS_OPT,
    LR_OPT,
    NO_CONSTRAINTS_OPT,
    NO_STEM_OPT,
    PENALTY_OPT,
    RELATED_OPT,
    RELEASE_OPT,
    method_options,
    open_dataset,
    stop_cleanly,
)
from instructvid.progress import console, progress_bar

__all__ = ["benchmark", "transfer", "tune"]


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
    related: bool = RELATED_OPT,
    no_constraints: bool = NO_CONSTRAINTS_OPT,
    hard_constraints: bool = HARD_CONSTRAINTS_OPT,
    penalty: float = PENALTY_OPT,
    no_stem: bool = NO_STEM_OPT,
    device: str = DEVICE_OPT,
    epochs_init: int | None = EPOCHS_INIT_OPT,
    epochs: int | None = EPOCHS_OPT,
    lr: float | None = LR_OPT,
    dropout: float | None = DROPOUT_OPT,
    batch_videos: int | None = BATCH_OPT,
    a14: str = A14_OPT,
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
    from instructvid.io.atomic import atomic_write_text
    from instructvid.report.plots import method_summary_plot, recall_bar_plot
    from instructvid.report.tables import (
        actionness_markdown,
        results_markdown,
        sharing_markdown,
    )
    from instructvid.steps.benchmark.external import parse_step_scores_option, register_external
    from instructvid.steps.benchmark.protocol import SCORING_METHODS, run_benchmark

    if alpha is not None and actionness is None:
        raise typer.BadParameter(
            "--alpha is the weight of --actionness; give both", param_hint="--alpha"
        )
    dataset = open_dataset(data, release, features, constraints)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    for text in step_scores:
        try:
            name, folder = parse_step_scores_option(text)
            register_external(name, folder)
        except (ValueError, FileNotFoundError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--step-scores") from None
        if name not in names:
            names.append(name)
    settings = (
        actionness_settings(actionness, alpha, standardize_actionness, Path(out) / "actionness")
        if actionness is not None
        else None
    )
    options = method_options(
        related=related,
        no_constraints=no_constraints,
        hard_constraints=hard_constraints,
        penalty=penalty,
        no_stem=no_stem,
        device=device,
        seed=seed,
        a14=a14,
        epochs_init=epochs_init,
        epochs=epochs,
        lr=lr,
        dropout=dropout,
        batch_videos=batch_videos,
    )
    try:
        with progress_bar("benchmark") as update:
            summaries = run_benchmark(
                dataset,
                out,
                methods=names,
                n_splits=splits,
                n_train=n_train,
                seed=seed,
                options=options,
                progress=lambda m, done, total: update(done, total),
                actionness=settings,
            )
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--methods") from None
    except (ValueError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: rerun the same command to resume")
        raise typer.Exit(130) from None
    titles = {t: task.title for t, task in dataset.tasks.items()}
    markdown = results_markdown(summaries, titles)
    sharing = sharing_markdown(summaries) if related else None
    if sharing is not None:
        markdown += "\nSharing (Table 3.4 layout; paper in parentheses):\n\n" + sharing
    from instructvid.report.sharing import write_sharing

    steps_of = {t: k.steps for t, k in dataset.tasks.items()}
    gain = write_sharing(summaries, steps_of, titles, out, stem=not no_stem)
    if gain is not None:
        markdown += "\nGain from sharing (Table 3.3's last row, Fig. 3.6):\n\n" + gain
    with_actionness = actionness_markdown(summaries)
    if with_actionness is not None:
        markdown += "\nWith actionness (eq. 4.4, Table 4.2):\n\n" + with_actionness
    atomic_write_text(Path(out) / "results.md", markdown)
    recall_bar_plot(summaries, titles, Path(out) / "recall.png")
    method_summary_plot(summaries, Path(out) / "methods.png")
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
        skipped = [m for m in names if m not in SCORING_METHODS]
        if skipped:
            console.print(
                f"no step scores, actionness does not apply: {', '.join(skipped)}",
                highlight=False,
            )
    console.print(f"results: {Path(out) / 'results.md'}")


def tune(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="Folder for tune.json and per-point caches."),
    grid: str = typer.Option(
        "lr=1e-4,1e-3;dropout=0.3,0.5",
        "--grid",
        help='Hyper-parameter grid, e.g. "lr=1e-5,1e-4;dropout=0.3,0.5" (Cartesian product).',
    ),
    method: str = typer.Option("component", "--method", help="The method to tune."),
    n_train: int = typer.Option(30, "--n-train", help="Training videos per primary task."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split and of training."),
    related: bool = RELATED_OPT,
    no_constraints: bool = NO_CONSTRAINTS_OPT,
    hard_constraints: bool = HARD_CONSTRAINTS_OPT,
    penalty: float = PENALTY_OPT,
    no_stem: bool = NO_STEM_OPT,
    device: str = DEVICE_OPT,
    epochs_init: int | None = EPOCHS_INIT_OPT,
    epochs: int | None = EPOCHS_OPT,
    lr: float | None = LR_OPT,
    dropout: float | None = DROPOUT_OPT,
    batch_videos: int | None = BATCH_OPT,
    a14: str = A14_OPT,
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
    options = method_options(
        related=related,
        no_constraints=no_constraints,
        hard_constraints=hard_constraints,
        penalty=penalty,
        no_stem=no_stem,
        device=device,
        seed=seed,
        a14=a14,
        epochs_init=epochs_init,
        epochs=epochs,
        lr=lr,
        dropout=dropout,
        batch_videos=batch_videos,
    )
    with stop_cleanly(), progress_bar("grid points") as update:
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


def transfer(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="Folder for transfer.json and transfer.png."),
    counts: str | None = typer.Option(
        None, "--counts", help="Numbers of related tasks, e.g. 1,5,20,65 (default 1,2,5,…,all)."
    ),
    splits: int = typer.Option(1, "--splits", help="Number of random splits."),
    n_train: int = typer.Option(30, "--n-train", help="Training videos per primary task."),
    seed: int = typer.Option(0, "--seed", help="Seed of the splits and of training."),
    no_constraints: bool = NO_CONSTRAINTS_OPT,
    hard_constraints: bool = HARD_CONSTRAINTS_OPT,
    penalty: float = PENALTY_OPT,
    no_stem: bool = NO_STEM_OPT,
    device: str = DEVICE_OPT,
    epochs_init: int | None = EPOCHS_INIT_OPT,
    epochs: int | None = EPOCHS_OPT,
    lr: float | None = LR_OPT,
    dropout: float | None = DROPOUT_OPT,
    batch_videos: int | None = BATCH_OPT,
    a14: str = A14_OPT,
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
) -> None:
    """Novel-task transfer (Fig. 3.8): train on n related tasks only, test on primary tasks."""
    from instructvid.steps.benchmark.transfer import transfer_curve

    try:
        parsed = [int(c) for c in counts.split(",") if c.strip()] if counts else None
    except ValueError:
        raise typer.BadParameter("expected integers, e.g. 1,5,20", param_hint="--counts") from None
    dataset = open_dataset(data, release, features, constraints)
    options = method_options(
        related=True,
        no_constraints=no_constraints,
        hard_constraints=hard_constraints,
        penalty=penalty,
        no_stem=no_stem,
        device=device,
        seed=seed,
        a14=a14,
        epochs_init=epochs_init,
        epochs=epochs,
        lr=lr,
        dropout=dropout,
        batch_videos=batch_videos,
    )
    with stop_cleanly(), progress_bar("transfer points") as update:
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
