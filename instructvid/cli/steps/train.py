"""``instructvid steps train``: train one step model into a RUN folder (thesis §3.4).

The library does the work (:func:`instructvid.steps.benchmark.runs.train_run`: resumable, deterministic);
this parses the options, calls it and prints what was trained.
"""

from __future__ import annotations

from pathlib import Path

import typer

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
from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["train"]


@training_options()
def train(
    data: Path = DATA_ARG,
    out: Path = typer.Option(..., "--out", help="RUN folder (config, checkpoints, model)."),
    share: str = typer.Option(
        "component", "--share", help="Sharing level: component, step, task or component-task."
    ),
    supervised: bool = typer.Option(
        False, "--supervised", help="Train on the ground truth instead (the supervised topline)."
    ),
    n_train: int = N_TRAIN_OPT,
    seed: int = SEED_OPT,
    training: TrainingFlags = TRAINING_OPTS,
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
    from instructvid.steps.benchmark.runs import train_run
    from instructvid.text.components import SHARE_LEVELS

    if share not in SHARE_LEVELS:
        raise typer.BadParameter(f"expected one of {', '.join(SHARE_LEVELS)}", param_hint="--share")
    dataset = open_dataset(data, release, features, constraints)
    options = training.method_options(seed)
    with stop_cleanly(f"(finished epochs are saved in {out})"), progress_bar("epochs") as update:
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
