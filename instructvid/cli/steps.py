"""``instructvid steps``: cross-task step localization.

Commands: ``check``, ``stats`` (dataset), ``train``, ``evaluate``, ``localize`` (one run),
``benchmark`` (the 20-split protocol), ``tune`` (validation grid), ``transfer`` (novel tasks).
The library does the work (:mod:`instructvid.steps`); these functions parse, call and print.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

# Training options shared by train, benchmark, tune and transfer.
RELATED_OPT = typer.Option(
    True,
    "--related/--no-related",
    help="Add the related tasks' videos to training (sharing levels step and component).",
)
NO_CONSTRAINTS_OPT = typer.Option(
    False, "--no-constraints", help="Ignore the narration constraints at training."
)
HARD_CONSTRAINTS_OPT = typer.Option(
    False,
    "--hard-constraints",
    help="Forbid labels outside the narration intervals (default: the authors' λ penalty).",
)
PENALTY_OPT = typer.Option(1e4, "--penalty", help="λ of the constraint penalty.")
NO_STEM_OPT = typer.Option(
    False, "--no-stem", help="Use step words unstemmed (the authors' split on spaces)."
)
DEVICE_OPT = typer.Option("auto", "--device", help="auto, cpu or cuda.")
EPOCHS_INIT_OPT = typer.Option(
    None, "--epochs-init", help="Initialisation epochs (random constrained labels; default 30)."
)
EPOCHS_OPT = typer.Option(None, "--epochs", help="Alternation epochs (default 30).")
LR_OPT = typer.Option(
    None,
    "--lr",
    help="Adam learning rate, also δ of eq. A.14 (default 3e-4, chosen on validation; "
    "the authors' 1e-5 is for one video per step).",
)
DROPOUT_OPT = typer.Option(
    None, "--dropout", help="Input dropout probability (default 0.3, the authors')."
)
BATCH_OPT = typer.Option(
    None,
    "--batch-videos",
    help="Videos of one task per Adam step (default 32). 1 with --exact-a14 autograd: the "
    "authors' reference loop.",
)
A14_OPT = typer.Option(
    "closed",
    "--exact-a14",
    help="Y-update costs: closed (closed form) or autograd (double backward, as the authors).",
)


ACTIONNESS_OPT = typer.Option(
    None,
    "--actionness",
    help="Per-second actionness for eq. 4.4: a folder of <vid>.npy (T,) arrays (as written by "
    "`actionness score`), or an actionness model (RUN folder or model.pt) that scores the "
    "videos' features (cached under OUT/actionness/).",
)
ALPHA_OPT = typer.Option(
    None,
    "--alpha",
    help="Weight α of actionness in eq. 4.4, (1 − α) f + α S, in [0, 1] (default: chosen per "
    "split on the validation videos, videos_val.csv).",
)
STANDARDIZE_OPT = typer.Option(
    False,
    "--standardize-actionness",
    help="z-score the actionness within each video before adding it (default: raw values).",
)


def _is_actionness_model(src: Path) -> bool:
    """An actionness model (model.pt, or a RUN folder holding one) rather than score arrays."""
    return (src.is_file() and src.suffix == ".pt") or (
        src.is_dir() and (src / "model.pt").is_file()
    )


def _actionness_scorer(src: Path):
    """(score_fn (T, d) → (T,), identity) of an actionness model; the actionness library does
    the work (load_model, score_video with 1 s clips on one torch thread, as `actionness score`)."""
    from instructvid.actionness.proposals import score_video
    from instructvid.actionness.threads import limit_torch_threads
    from instructvid.actionness.train import load_model
    from instructvid.steps.actionness import file_identity

    net, _ = load_model(src, device="cpu")
    model_file = src / "model.pt" if src.is_dir() else src
    identity = {"model": file_identity(model_file), "clip_seconds": 1}

    def score_fn(x):  # (T, d) features → (T,) float64
        with limit_torch_threads(1):  # one small product per video
            return score_video(net, x, clip_seconds=1)

    return score_fn, identity


def _actionness_settings(src: Path, alpha: float | None, standardize: bool, cache_root: Path):
    """ActionnessSettings of `benchmark --actionness SRC [--alpha A]`."""
    from instructvid.steps.actionness import (
        ActionnessSettings,
        ComputedActionness,
        FolderActionness,
    )

    if not src.exists():
        raise typer.BadParameter(f"{src} not found", param_hint="--actionness")
    if _is_actionness_model(src):
        score_fn, identity = _actionness_scorer(src)
        source = ComputedActionness(score_fn, cache_root, identity)
    elif src.is_dir():
        source = FolderActionness(src)
    else:
        raise typer.BadParameter(
            f"{src}: expected a folder of <vid>.npy actionness arrays, an actionness RUN "
            "folder or a model.pt",
            param_hint="--actionness",
        )
    try:
        return ActionnessSettings(source, alpha=alpha, standardize=standardize)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--alpha") from None


def _method_options(
    *,
    related: bool,
    no_constraints: bool,
    hard_constraints: bool,
    penalty: float,
    no_stem: bool,
    device: str,
    seed: int,
    a14: str,
    epochs_init: int | None,
    epochs: int | None,
    lr: float | None,
    dropout: float | None,
    batch_videos: int | None,
):
    """The methods' options from the shared command-line flags (checked here, once)."""
    from instructvid.steps.protocol import MethodOptions

    hyper = {
        "epochs_init": epochs_init,
        "epochs": epochs,
        "lr": lr,
        "dropout": dropout,
        "batch_videos": batch_videos,
    }

    if no_constraints and hard_constraints:
        raise typer.BadParameter(
            "--no-constraints and --hard-constraints exclude each other",
            param_hint="--hard-constraints",
        )
    if a14 not in ("closed", "autograd"):
        raise typer.BadParameter("expected closed or autograd", param_hint="--exact-a14")
    if device not in ("auto", "cpu", "cuda"):
        raise typer.BadParameter("expected auto, cpu or cuda", param_hint="--device")
    return MethodOptions(
        related=related,
        constraints="none" if no_constraints else "hard" if hard_constraints else "penalty",
        penalty=penalty,
        stem=not no_stem,
        hyper={k: float(v) for k, v in hyper.items() if v is not None},
        a14=a14,
        device=device,
        seed=seed,
    )


@contextmanager
def _stop_cleanly() -> Iterator[None]:
    """Bad settings end with exit 2 and their message; Ctrl-C with exit 130 and how to resume."""
    try:
        yield
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: rerun the same command to resume")
        raise typer.Exit(130) from None


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
    """Dataset statistics of the primary tasks; the paper's Table 3.2 values on a second row."""
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
    from instructvid.steps.external import parse_step_scores_option, register_external
    from instructvid.steps.protocol import SCORING_METHODS, run_benchmark

    if alpha is not None and actionness is None:
        raise typer.BadParameter(
            "--alpha is the weight of --actionness; give both", param_hint="--alpha"
        )
    dataset = _open(data, release, features, constraints)
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
        _actionness_settings(actionness, alpha, standardize_actionness, Path(out) / "actionness")
        if actionness is not None
        else None
    )
    options = _method_options(
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


@app.command("train")
def train(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="RUN folder (config, checkpoints, model)."),
    share: str = typer.Option(
        "component", "--share", help="Sharing level: component, step, task or component-task."
    ),
    supervised: bool = typer.Option(
        False, "--supervised", help="Train on the ground truth instead (the supervised topline)."
    ),
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
    cache_mb: float = typer.Option(
        1024,
        "--cache-mb",
        help="Features kept in memory between epochs (MB); the rest is re-read each epoch.",
    ),
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
    constraints: Path | None = CONSTRAINTS_OPT,
) -> None:
    """Train a step model on split 0 of SEED (thesis §3.4); resumable, deterministic.

    Everything is written under RUN; DATA is only read. Interrupt with Ctrl-C and rerun the
    same command to resume from the last finished epoch.
    """
    from instructvid.steps.run import RunConfigError, train_run
    from instructvid.text.components import SHARE_LEVELS

    if share not in SHARE_LEVELS:
        raise typer.BadParameter(f"expected one of {', '.join(SHARE_LEVELS)}", param_hint="--share")
    dataset = _open(data, release, features, constraints)
    options = _method_options(
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
        with progress_bar("epochs") as update:
            result = train_run(
                dataset,
                out,
                share="task" if supervised else share,
                supervised=supervised,
                n_train=n_train,
                seed=seed,
                options=options,
                progress=update,
                cache_mb=cache_mb,
            )
    except (RunConfigError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print(
            f"[yellow]interrupted[/yellow]: finished epochs are saved in {out}; "
            "rerun the same command to resume"
        )
        raise typer.Exit(130) from None
    if result.already_finished:
        console.print(f"{out} is already trained ({len(result.history)} epochs); nothing to do")
    else:
        seconds = sum(float(r.get("seconds") or 0) for r in result.history)
        resumed = f", resumed after epoch {result.resumed_from}" if result.resumed_from else ""
        console.print(
            f"trained {len(result.history)} epochs in {seconds:.1f} s{resumed}; "
            f"{result.model.vocabulary.n_components} components ({result.model.vocabulary.share})"
        )
    console.print(
        f"model: [bold]{Path(out) / 'model'}[/bold]; evaluate with `steps evaluate {out}`"
    )


@app.command("evaluate")
def evaluate(
    run: Path = typer.Argument(..., help="A RUN folder written by `steps train`."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Where to write the result JSON (default RUN/evaluation.json)."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="DATA folder, if it moved since training (default: as recorded)."
    ),
) -> None:
    """Recall per primary task on the test split recorded in RUN (and the step mAP)."""
    from instructvid.io.atomic import atomic_write_json
    from instructvid.io.crosstask import CrossTaskFormatError
    from instructvid.steps.run import RunConfigError, RunLayout, evaluate_run

    try:
        with progress_bar("test videos") as update:
            result = evaluate_run(run, data_root=data, progress=update)
    except (RunConfigError, CrossTaskFormatError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    target = json_out or RunLayout(run).evaluation
    atomic_write_json(target, result)
    table = Table(title=f"Recall (%) of {result['method']} on {result['n_videos']} test videos")
    table.add_column("task")
    table.add_column("recall %", justify="right")
    for task_id, value in result["per_task"].items():
        table.add_row(task_id, f"{100 * value:.1f}")
    table.add_row("mean", f"{100 * result['mean']:.1f}", end_section=True)
    console.print(table)
    console.print(f"step mAP: {100 * result['map']:.1f} %; written to {target}")


@app.command("localize")
def localize(
    run: Path | None = typer.Argument(
        None, help="A RUN folder written by `steps train` (or give --step-scores instead)."
    ),
    features_file: Path | None = typer.Option(
        None, "--features", help="The video's (T, d) .npy features, one row per second."
    ),
    task: str | None = typer.Option(None, "--task", help="A task id (its steps from the cards)."),
    steps: str | None = typer.Option(
        None, "--steps", help='Comma-separated steps, e.g. "pour milk,whisk mixture".'
    ),
    step_scores: Path | None = typer.Option(
        None,
        "--step-scores",
        help="A (T, K) .npy of per-second step scores used instead of a RUN (--steps or --task "
        "with --data then only name the steps; K must match).",
    ),
    data: Path | None = typer.Option(
        None, "--data", help="DATA folder giving the steps of --task with --step-scores."
    ),
    actionness: Path | None = typer.Option(
        None,
        "--actionness",
        help="Per-second actionness of this video for eq. 4.4: a (T,) .npy, or an actionness "
        "model (RUN folder or model.pt) scored on --features. Needs --alpha.",
    ),
    alpha: float | None = typer.Option(
        None,
        "--alpha",
        help="Weight α in [0, 1] of eq. 4.4, (1 − α) f + α S; required with --actionness "
        "(take the α that `steps benchmark --actionness` chose on validation).",
    ),
    standardize_actionness: bool = STANDARDIZE_OPT,
    json_out: Path | None = typer.Option(
        None,
        "--json",
        help="Where to write the JSON (default RUN/localize/<name>.json, or "
        "<step-scores>.localize.json beside the --step-scores file).",
    ),
) -> None:
    """Step times (seconds) in a new video, also for a task never seen in training."""
    import warnings

    from instructvid.io.atomic import atomic_write_json
    from instructvid.io.crosstask import CrossTaskFormatError, open_features
    from instructvid.steps.localize import localize as localize_video
    from instructvid.steps.localize import parse_steps
    from instructvid.steps.run import RunConfigError, RunLayout
    from instructvid.text.components import UnknownComponentsWarning

    if (run is None) == (step_scores is None):
        raise typer.BadParameter("give exactly one of RUN or --step-scores", param_hint="RUN")
    if run is not None and (task is None) == (steps is None):
        raise typer.BadParameter("give exactly one of --task or --steps", param_hint="--task")
    if actionness is not None and alpha is None:
        raise typer.BadParameter(
            "--actionness needs --alpha: α depends on the scales of both scores; take the value "
            "`steps benchmark --actionness` chose on validation (the thesis's models used 0.8)",
            param_hint="--alpha",
        )
    try:
        step_list = parse_steps(steps) if steps is not None else None
        cue, cue_source = None, None
        if actionness is not None and _is_actionness_model(actionness):
            if features_file is None:
                raise ValueError("an actionness model scores the video's features: give --features")
            score_fn, _ = _actionness_scorer(actionness)
            cue = score_fn(open_features(features_file))
            cue_source = f"model {actionness}"
        elif actionness is not None:
            cue, cue_source = actionness, str(actionness)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownComponentsWarning)
            _, payload = localize_video(
                run,
                features_file,
                task_id=task,
                steps=step_list,
                step_scores=step_scores,
                data_root=data,
                actionness=cue,
                actionness_source=cue_source,
                alpha=alpha,
                standardize=standardize_actionness,
            )
    except (RunConfigError, CrossTaskFormatError, ValueError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for w in caught:
        if issubclass(w.category, UnknownComponentsWarning):
            console.print(f"[yellow]warning:[/yellow] {w.message}")
    name = (step_scores or features_file or Path("video")).name.removesuffix(".npy")
    title = f"Steps in {name} ({payload['n_seconds']} s)"
    if payload["alpha"] is not None:
        title += f", actionness α = {payload['alpha']:g}"
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("step")
    table.add_column("time (s)", justify="right")
    table.add_column("log p" if run is not None else "score", justify="right")
    if payload["alpha"] is not None:
        table.add_column("actionness", justify="right")
    table.add_column("unknown words")
    for row in payload["steps"]:
        cells = [
            str(row["index"]),
            row["step"],
            f"{row['start_s']:.0f}–{row['end_s']:.0f}",
            f"{row['score']:.2f}",
        ]
        if payload["alpha"] is not None:
            cells.append(f"{row['actionness']:.2f}")
        table.add_row(*cells, ", ".join(row["unknown_words"]))
    console.print(table)
    if json_out is not None:
        target = json_out
    elif run is not None:
        target = RunLayout(run).localize(name)
    else:
        target = step_scores.with_name(f"{name}.localize.json")  # type: ignore[union-attr]
    atomic_write_json(target, payload)
    console.print(f"written to {target}")


@app.command("tune")
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
    from instructvid.steps.tune import parse_grid
    from instructvid.steps.tune import tune as run_tune

    try:
        parsed = parse_grid(grid)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--grid") from None
    dataset = _open(data, release, features, constraints)
    options = _method_options(
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
    with _stop_cleanly(), progress_bar("grid points") as update:
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


@app.command("transfer")
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
    from instructvid.steps.transfer import transfer_curve

    try:
        parsed = [int(c) for c in counts.split(",") if c.strip()] if counts else None
    except ValueError:
        raise typer.BadParameter("expected integers, e.g. 1,5,20", param_hint="--counts") from None
    dataset = _open(data, release, features, constraints)
    options = _method_options(
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
    with _stop_cleanly(), progress_bar("transfer points") as update:
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
