"""``instructvid actionness train``: learn S and F by order verification (thesis §4.3).

The library does the work (:func:`instructvid.actionness.train.train_actionness`: resumable,
deterministic; the videos chosen by
:func:`instructvid.actionness.video_selection.training_selection`); this parses the options,
calls it and prints the epochs.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.actionness.options import (
    ANNOTATIONS_OPT,
    CROSSTASK_OPT,
    DEVICE_OPT,
    FEATURES_OPT,
    SEED_OPT,
)
from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["train"]


def train(
    features: Path = FEATURES_OPT,
    out: Path = typer.Option(
        ..., "--out", help="Run folder: checkpoint.pt, model.pt, train.json, store/."
    ),
    annotations: Path | None = ANNOTATIONS_OPT,
    crosstask: Path | None = CROSSTASK_OPT,
    train_subset: str = typer.Option(
        "training", "--train-subset", help="Subset of --annotations to train on."
    ),
    eval_subset: str = typer.Option(
        "testing",
        "--eval-subset",
        help="Subset of --annotations that is evaluated (never trained on).",
    ),
    videos: Path | None = typer.Option(
        None, "--videos", help="Explicit training video ids, one per line."
    ),
    exclude: Path | None = typer.Option(
        None,
        "--exclude",
        help="More evaluation video ids (one per line) that must not be trained on.",
    ),
    range_s: int = typer.Option(
        120, "--range", help="Range d (s) of a sequence; clips are d/10 long."
    ),
    clips: int = typer.Option(5, "--clips", help="Clips M per sequence (>= 2)."),
    trim: float = typer.Option(
        0.3, "--trim", help="Fraction trimmed at each end of training videos (0 = untrimmed)."
    ),
    epochs: int = typer.Option(15, "--epochs", help="Epochs."),
    batch_size: int = typer.Option(1024, "--batch-size", help="Sequences per Adam step."),
    lr: float = typer.Option(1e-4, "--lr", help="Initial learning rate (Adam)."),
    lr_decay: float = typer.Option(0.9, "--lr-decay", help="Learning-rate factor per epoch."),
    sequences_per_video: int = typer.Option(
        1, "--sequences-per-video", help="Sequences drawn per video per epoch."
    ),
    equal_categories: bool = typer.Option(
        False,
        "--equal-categories",
        help="Resample an equal number of videos per category every epoch.",
    ),
    category_key: str = typer.Option(
        "class",
        "--category-key",
        help="Annotation key giving a video's category (class, domain …).",
    ),
    min_category_videos: int = typer.Option(
        3000,
        "--min-category-videos",
        help="Drop categories with fewer videos (3,000 in the thesis).",
    ),
    seed: int = SEED_OPT,
    device: str = DEVICE_OPT,
    threads: int | None = typer.Option(
        None, "--threads", help="torch CPU threads (default: all cores but one)."
    ),
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="fused (CPU, one compiled pass per batch), torch (autograd, any device) or auto.",
    ),
) -> None:
    """Train S and F by order verification; resumes from RUN/checkpoint.pt when interrupted."""
    from instructvid.actionness.config import TrainConfig
    from instructvid.actionness.train import train_actionness
    from instructvid.actionness.video_selection import training_selection

    with stop_cleanly("training", also=(FileNotFoundError,)):
        config = TrainConfig(
            range_s=range_s,
            n_clips=clips,
            trim=trim,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            lr_decay=lr_decay,
            sequences_per_video=sequences_per_video,
            equal_categories=equal_categories,
            min_category_videos=min_category_videos,
            seed=seed,
        )
        sel = training_selection(
            features,
            annotations=annotations,
            crosstask=crosstask,
            train_subset=train_subset,
            eval_subset=eval_subset,
            videos=videos,
            exclude=exclude,
            category_key=category_key,
            seed=seed,
        )
        if sel.n_without_features:
            console.print(
                f"[yellow]{sel.n_without_features} training video(s) have no feature file; skipped[/yellow]"
            )
        with progress_bar("training") as update:
            result = train_actionness(
                sel.features,
                out,
                config=config,
                eval_videos=sel.eval_ids,
                eval_source=sel.eval_source,
                categories=sel.categories,
                device=device,
                threads=threads,
                engine=engine,
                progress=update,
            )
    table = Table(title=f"order verification — {result.n_eligible}/{result.n_videos} videos used")
    for col in ("epoch", "lr", "loss", "accuracy", "seq/s"):
        table.add_column(col, justify="right")
    for h in result.history:
        table.add_row(
            str(h["epoch"]),
            f"{h['lr']:.2e}",
            f"{h['loss']:.4f}",
            f"{h['accuracy']:.3f}",
            f"{h['sequences_per_second']:,.0f}",
        )
    console.print(table)
    from instructvid.actionness.learning_check import not_learning

    if (note := not_learning(result.history)) is not None:
        console.print(f"[yellow]warning:[/yellow] {note}", highlight=False, soft_wrap=True)
    console.print(f"model: [bold]{Path(out) / 'model.pt'}[/bold]")
