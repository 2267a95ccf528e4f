"""``instructvid actionness``: learn actionness by order verification, score, propose, evaluate.

The ``actionness`` app. ``synth`` (a synthetic world; also ``instructvid synth actionness``)
lives here; ``train`` in :mod:`~instructvid.cli.actionness.train`, ``score`` and
``proposals`` in :mod:`~instructvid.cli.actionness.score`, ``evaluate`` in
:mod:`~instructvid.cli.actionness.evaluate`, ``sweep`` (ablations) in
:mod:`~instructvid.cli.actionness.sweep`; shared options in
:mod:`~instructvid.cli.actionness.options`. The library does the work
(:mod:`instructvid.actionness`); these functions parse, call and print.
"""

from __future__ import annotations

from pathlib import Path

import typer

from instructvid.cli.actionness.evaluate import evaluate
from instructvid.cli.actionness.score import proposals, score
from instructvid.cli.actionness.sweep import sweep
from instructvid.cli.actionness.train import train
from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["app", "evaluate", "proposals", "score", "sweep", "synth", "train"]

app = typer.Typer(
    help="Actionness via long-range temporal order verification (thesis ch. 4).",
    no_args_is_help=True,
)


def synth(
    out: Path = typer.Option(
        ..., "--out", help="Folder for features/, annotations.json, world.json."
    ),
    size: str = typer.Option("small", "--size", help="tiny, small or medium."),
    seed: int = typer.Option(0, "--seed", help="Seed of the world (same seed, same bytes)."),
) -> None:
    """Write a synthetic actionness world (intros/outros, ordered steps, shuffled background)."""
    from instructvid.synth.actionness import generate_actionness_world

    with stop_cleanly("synth actionness"), progress_bar(f"synth actionness ({size})") as update:
        world = generate_actionness_world(out, size=size, seed=seed, progress=update)
    console.print(f"wrote [bold]{world.features}[/bold] and [bold]{world.annotations}[/bold]")


# Registration order is the order of ``instructvid actionness --help``.
app.command("synth")(synth)
app.command("train")(train)
app.command("score")(score)
app.command("proposals")(proposals)
app.command("evaluate")(evaluate)
app.command("sweep")(sweep)
