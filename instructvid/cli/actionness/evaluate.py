"""``instructvid actionness evaluate``: frame AP and AR@AN of baselines, scores and models.

The library does the work (:func:`instructvid.actionness.eval.evaluate.evaluate_methods` on an
:mod:`~instructvid.actionness.eval.sets` dataset with the methods of
:mod:`~instructvid.actionness.eval.methods`); this parses the options, calls it and prints
the table of results.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.actionness.options import (
    ANNOTATIONS_OPT,
    CLIP_OPT,
    CROSSTASK_OPT,
    SEED_OPT,
    check_one_dataset,
    open_eval_set,
)
from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["evaluate"]


def evaluate(
    out: Path = typer.Option(
        ...,
        "--out",
        help="Folder for <method>.json, <method>.proposals.json, results.md and plots.",
    ),
    annotations: Path | None = ANNOTATIONS_OPT,
    crosstask: Path | None = CROSSTASK_OPT,
    subset: str = typer.Option("testing", "--subset", help="Subset of --annotations to evaluate."),
    baselines: str = typer.Option(
        "", "--baselines", help="Comma list: chance, trim0.3 (any trimX), prior, supervised."
    ),
    scores: list[Path] = typer.Option(
        [],
        "--scores",
        help="Folder of <vid>.npy per-second scores (repeatable); method = folder name.",
    ),
    proposal_files: list[Path] = typer.Option(
        [], "--proposals", help="ActivityNet-style proposal JSON (repeatable); method = file stem."
    ),
    model: Path | None = typer.Option(
        None, "--model", help="RUN folder of a trained model to evaluate (needs --features)."
    ),
    name: str = typer.Option("learned", "--name", help="Method name of --model."),
    features: Path | None = typer.Option(
        None, "--features", help="Per-second features (for --model and the supervised topline)."
    ),
    clip_seconds: int = CLIP_OPT,
    no_proposals: bool = typer.Option(
        False,
        "--no-proposals",
        help="Frame AP only (skip TAG proposals and AR@AN for score methods).",
    ),
    seed: int = SEED_OPT,
    drop_outside: bool = typer.Option(
        False,
        "--drop-outside",
        help="Drop the --proposals of videos outside the evaluated subset first (by default "
        "they count towards the average number per video, as in the official evaluator).",
    ),
) -> None:
    """Frame AP (0.2 s segments) and AR@AN of baselines, score files, proposals and models."""
    from instructvid.actionness.eval.evaluate import evaluate_methods
    from instructvid.actionness.eval.methods import (
        baseline_sources,
        load_proposal_file,
        model_source,
        prior_proposals,
        scores_dir_source,
        supervised_source,
    )
    from instructvid.actionness.eval.outside import drop_outside as _drop_outside
    from instructvid.actionness.eval.outside import outside_note
    from instructvid.actionness.model_io import load_model

    check_one_dataset(annotations, crosstask)
    names = [b.strip() for b in baselines.split(",") if b.strip()]
    if not (names or scores or proposal_files or model):
        raise typer.BadParameter(
            "nothing to evaluate: give --baselines, --scores, --proposals or --model"
        )
    with stop_cleanly(
        "evaluate",
        also=(
            FileNotFoundError,
            KeyError,
        ),
    ):
        es = open_eval_set(annotations, crosstask, subset=subset, seed=seed, features=features)
        sources = baseline_sources(
            [n for n in names if n not in ("prior", "supervised")], seed=seed
        )
        if "supervised" in names:
            sources.append(supervised_source(es, seed=seed))
        for folder in scores:
            sources.append(scores_dir_source(folder))
        if model is not None:
            net, _ = load_model(model)
            sources.append(model_source(net, es, name=name, clip_seconds=clip_seconds))
        sets = {}
        if "prior" in names:
            sets["prior"] = prior_proposals(es, seed=seed)
        for path in proposal_files:
            key, props = load_proposal_file(path)
            note = outside_note(key, props, es.videos, dropped=drop_outside)
            if note is not None:
                console.print(f"[yellow]warning:[/yellow] {note}", highlight=False, soft_wrap=True)
            sets[key] = _drop_outside(props, es.videos) if drop_outside else props
        with progress_bar("evaluating") as update:
            results = evaluate_methods(
                es,
                out,
                sources=sources,
                proposal_sets=sets,
                proposals=not no_proposals,
                progress=update,
            )
    table = Table(title=f"Actionness — {es.source}, {len(es.videos)} videos")
    for col in ("method", "frame AP %", "per-video %", "AR@10 %", "AR@100 %", "AUC %"):
        table.add_column(col, justify="right" if col != "method" else "left")
    for key, r in results.items():
        fa = (
            (f"{100 * r.frame.pooled:.1f}", f"{100 * r.frame.per_video_mean:.1f}")
            if r.frame
            else ("–", "–")
        )
        ar = (
            (
                f"{100 * r.aran.ar_at(10):.1f}",
                f"{100 * r.aran.ar_at(100):.1f}",
                f"{100 * r.aran.auc:.1f}",
            )
            if r.aran
            else ("–",) * 3
        )
        table.add_row(key, *fa, *ar)
    console.print(table)
    console.print(f"results: [bold]{Path(out) / 'results.md'}[/bold]")
