"""The ``instructvid`` command."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvid.cli import report as report_cli
from instructvid.cli import scene as scene_cli
from instructvid.cli import synth as synth_cli
from instructvid.cli import video as video_cli
from instructvid.cli.actionness import app as actionness_cli
from instructvid.cli.steps import app as steps_cli
from instructvid.cli.steps import constraints as constraints_cli
from instructvid.progress import console

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
app.add_typer(video_cli.app, name="video")
app.command("report")(report_cli.report)


@app.command("demo")
def demo(
    out: Path = typer.Option(
        Path("demo-out"),
        "--out",
        help="Folder for the synthetic data, every pipeline's outputs and the report.",
    ),
    seed: int = typer.Option(
        0,
        "--seed",
        help="Seed of the synthetic world, the splits and the actionness model (3D scene: +1).",
    ),
) -> None:
    """Run every pipeline (step localization, actionness, 3D) on embedded synthetic data and
    write OUT/report.html and OUT/report.md; re-running into the same OUT reuses finished stages."""
    from rich.table import Table

    from instructvid.demo import run_demo

    result = run_demo(out, seed=seed, console=console)
    for spec in result.tables:
        if not spec.rows:
            console.print(spec.note, highlight=False)
            continue
        table = Table(title=f"instructvid demo — {spec.title}")
        for k, column in enumerate(spec.columns):
            table.add_column(column, justify="left" if k == 0 else "right")
        for row in spec.rows:
            table.add_row(*row)
        console.print(table)
        if spec.note:
            console.print(spec.note, highlight=False)
    console.print(f"report: [bold]{result.report}[/bold]")


def main() -> None:
    """Entry point of the console script (Ctrl-C: one line, exit 130; see cli/entry.py)."""
    from instructvid.cli.entry import run

    run(app)


if __name__ == "__main__":
    main()
