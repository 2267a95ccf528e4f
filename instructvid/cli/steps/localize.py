"""``instructvid steps localize``: step times in one new video.

From a RUN folder (trained model, any task or list of steps) or a ``--step-scores`` array,
optionally with per-second actionness (eq. 4.4). The library does the work
(:func:`instructvid.steps.localize.localize`); this parses, calls it, prints and writes JSON.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.steps.actionness import (
    STANDARDIZE_OPT,
    actionness_scorer,
    is_actionness_model,
)
from instructvid.cli.stop import fail, stop_cleanly
from instructvid.progress import console

__all__ = ["localize"]


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
    from instructvid.io.crosstask import open_features
    from instructvid.steps.benchmark.runs import RunLayout
    from instructvid.steps.localize import localize as localize_video
    from instructvid.steps.localize import parse_steps
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
        with stop_cleanly("localize"):
            step_list = parse_steps(steps) if steps is not None else None
            cue, cue_source = None, None
            if actionness is not None and is_actionness_model(actionness):
                if features_file is None:
                    raise ValueError(
                        "an actionness model scores the video's features: give --features"
                    )
                score_fn, _ = actionness_scorer(actionness)
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
    except FileNotFoundError as exc:
        raise fail(exc) from None
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
