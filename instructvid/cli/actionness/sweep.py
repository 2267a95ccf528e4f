"""``instructvid actionness sweep``: the range and clip-count ablations (thesis Fig. 4.4).

The library does the work (:func:`instructvid.actionness.sweep.run_sweep`: one model per value,
resumable); this parses the options, calls it and prints frame AP per run.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.actionness.options import (
    ANNOTATIONS_OPT,
    CLIP_OPT,
    CROSSTASK_OPT,
    DEVICE_OPT,
    FEATURES_OPT,
    SEED_OPT,
    check_one_dataset,
    comma_floats,
    open_eval_set,
)
from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["sweep"]


def sweep(
    features: Path = FEATURES_OPT,
    out: Path = typer.Option(
        ..., "--out", help="Folder for runs/, sweep.json, sweep.md and sweep.png."
    ),
    annotations: Path | None = ANNOTATIONS_OPT,
    crosstask: Path | None = CROSSTASK_OPT,
    subset: str = typer.Option(
        "testing", "--subset", help="Subset of --annotations to evaluate (never trained on)."
    ),
    ranges: str = typer.Option(
        "10,30,60,120", "--ranges", help="Values of the range d (s), with M fixed to --clips."
    ),
    clips_list: str = typer.Option(
        "3,4,5,6,7", "--clips-list", help="Values of M, with d fixed to --range."
    ),
    range_s: int = typer.Option(120, "--range", help="The fixed range d (s) of the M sweep."),
    clips: int = typer.Option(5, "--clips", help="The fixed M of the range sweep."),
    trim: float = typer.Option(
        0.3, "--trim", help="Fraction trimmed at each end of training videos."
    ),
    epochs: int = typer.Option(15, "--epochs", help="Epochs per run."),
    lr: float = typer.Option(1e-4, "--lr", help="Initial learning rate."),
    sequences_per_video: int = typer.Option(
        1, "--sequences-per-video", help="Sequences per video per epoch."
    ),
    clip_seconds: int = CLIP_OPT,
    seed: int = SEED_OPT,
    device: str = DEVICE_OPT,
) -> None:
    """Ablations of range d and clips M (thesis Fig. 4.4): one model per value; resumable."""
    from instructvid.actionness.config import TrainConfig
    from instructvid.actionness.sweep import run_sweep
    from instructvid.actionness.video_selection import training_selection

    check_one_dataset(annotations, crosstask)
    with stop_cleanly("sweep", also=(FileNotFoundError,)):
        d_values = [int(x) for x in comma_floats(ranges, "--ranges")]
        m_values = [int(x) for x in comma_floats(clips_list, "--clips-list")]
        base = TrainConfig(
            range_s=range_s,
            n_clips=clips,
            trim=trim,
            epochs=epochs,
            lr=lr,
            sequences_per_video=sequences_per_video,
            seed=seed,
        )
        sel = training_selection(
            features, annotations=annotations, crosstask=crosstask, eval_subset=subset, seed=seed
        )
        es = open_eval_set(annotations, crosstask, subset=subset, seed=seed, features=features)
        with progress_bar("sweep runs") as update:
            summary = run_sweep(
                sel.features,
                es,
                out,
                ranges=d_values,
                clips=m_values,
                base=base,
                clip_seconds=clip_seconds,
                device=device,
                progress=update,
            )
    table = Table(title="Ablations — frame AP %")
    for col in ("range d (s)", "M", "AP %", "per-video %"):
        table.add_column(col, justify="right")
    for r in summary["runs"]:
        table.add_row(
            str(r["range_s"]),
            str(r["n_clips"]),
            f"{100 * r['frame_ap']:.1f}",
            f"{100 * r['per_video_mean']:.1f}",
        )
    console.print(table)
    console.print(f"plot: [bold]{Path(out) / 'sweep.png'}[/bold]")
