"""The ``instructvid`` command."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvid.cli import actionness as actionness_cli
from instructvid.cli import constraints as constraints_cli
from instructvid.cli import scene as scene_cli
from instructvid.cli import steps as steps_cli
from instructvid.cli import synth as synth_cli
from instructvid.cli._progress import console

app = typer.Typer(
    help="instructvid: learn how people do tasks from narrated instructional videos.",
    no_args_is_help=True,
    add_completion=False,
)
constraints_cli.register(steps_cli.app)  # steps constraints, constraints-eval, train-text
app.add_typer(steps_cli.app, name="steps")
app.add_typer(synth_cli.app, name="synth")
app.add_typer(scene_cli.app, name="scene")
app.add_typer(actionness_cli.app, name="actionness")


@app.command("demo")
def demo(
    out: Path = typer.Option(
        Path("demo-out"), "--out", help="Folder for the world and the report."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic world and the splits."),
) -> None:
    """Run every implemented pipeline on an embedded synthetic world and write a report."""
    from rich.table import Table

    from instructvid.demo import run_demo

    result = run_demo(out, seed=seed, console=console)
    table = Table(title="instructvid demo — step localization recall (%)")
    table.add_column("method")
    table.add_column("recall %", justify="right")
    table.add_column("± std", justify="right")
    table.add_column("paper %", justify="right")
    for row in result.rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"report: [bold]{result.report}[/bold]")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
