"""``instructvid actionness``: learn actionness by order verification, score, propose, evaluate."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli._progress import console, progress_bar

app = typer.Typer(
    help="Actionness via long-range temporal order verification (thesis ch. 4).",
    no_args_is_help=True,
)

FEATURES_OPT = typer.Option(
    ..., "--features", help="Folder of per-video <vid>.npy features (T, D), one row per second."
)
ANNOTATIONS_OPT = typer.Option(
    None, "--annotations", help="COIN-layout annotation JSON (COIN.json format)."
)
CROSSTASK_OPT = typer.Option(
    None, "--crosstask", help="CrossTask DATA folder (random seeded split 2,062/688, scaled)."
)
SEED_OPT = typer.Option(
    0, "--seed", help="Seed of the weights, the sampling, the splits and random baselines."
)
DEVICE_OPT = typer.Option(
    "auto", "--device", help="torch device: auto (CUDA when available), cpu, cuda, cuda:1 …"
)
CLIP_OPT = typer.Option(
    1, "--clip-seconds", help="Length (s) of the clip centred on each second when scoring."
)


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"expected comma-separated numbers, got {text!r}", param_hint=what
        ) from None


@app.command("synth")
def synth(
    out: Path = typer.Option(
        ..., "--out", help="Folder for features/, annotations.json, world.json."
    ),
    size: str = typer.Option("small", "--size", help="tiny, small or medium."),
    seed: int = typer.Option(0, "--seed", help="Seed of the world (same seed, same bytes)."),
) -> None:
    """Write a synthetic actionness world (intros/outros, ordered steps, shuffled background)."""
    from instructvid.synth.actionness import generate_actionness_world

    try:
        with progress_bar(f"synth actionness ({size})") as update:
            world = generate_actionness_world(out, size=size, seed=seed, progress=update)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--size") from None
    console.print(f"wrote [bold]{world.features}[/bold] and [bold]{world.annotations}[/bold]")


@app.command("train")
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
    from instructvid.actionness.evaluate import training_selection
    from instructvid.actionness.sampling import TrainEvalOverlapError
    from instructvid.actionness.train import RunMismatchError, TrainConfig, train_actionness

    try:
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
    except (TrainEvalOverlapError, RunMismatchError, ValueError, FileNotFoundError) as exc:
        raise _fail(exc) from None
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
    console.print(f"model: [bold]{Path(out) / 'model.pt'}[/bold]")


@app.command("score")
def score(
    model: Path = typer.Option(
        ..., "--model", help="RUN folder (or its model.pt) from 'actionness train'."
    ),
    features: Path = FEATURES_OPT,
    out: Path = typer.Option(..., "--out", help="Folder for <vid>.npy per-second actionness."),
    videos: Path | None = typer.Option(
        None, "--videos", help="Video ids to score, one per line (default: every .npy)."
    ),
    clip_seconds: int = CLIP_OPT,
    device: str = typer.Option("cpu", "--device", help="torch device for scoring."),
) -> None:
    """Write per-second actionness S of every video (float64 (T,) .npy)."""
    from instructvid.actionness.evaluate import read_id_list
    from instructvid.actionness.proposals import score_video
    from instructvid.actionness.train import load_model
    from instructvid.io.atomic import atomic_save_npy
    from instructvid.io.crosstask import CrossTaskFormatError, open_features
    from instructvid.runtime import limit_torch_threads

    try:
        net, _ = load_model(model, device=device)
        ids = (
            read_id_list(videos) if videos else sorted(p.stem for p in Path(features).glob("*.npy"))
        )
        # one small product per video: a single torch thread is much faster (docs/actionness.md)
        with progress_bar("scoring") as update, limit_torch_threads(1):
            for k, vid in enumerate(ids):
                s = score_video(
                    net, open_features(Path(features) / f"{vid}.npy"), clip_seconds=clip_seconds
                )
                atomic_save_npy(Path(out) / f"{vid}.npy", s)
                update(k + 1, len(ids))
    except (FileNotFoundError, ValueError, CrossTaskFormatError) as exc:
        raise _fail(exc) from None
    console.print(f"scored {len(ids)} videos into [bold]{out}[/bold]")


@app.command("proposals")
def proposals(
    scores: Path = typer.Option(..., "--scores", help="Folder of <vid>.npy per-second scores."),
    out: Path = typer.Option(..., "--out", help="Proposal JSON to write (ActivityNet layout)."),
    annotations: Path | None = typer.Option(
        None, "--annotations", help="COIN-layout JSON giving durations (default: number of scores)."
    ),
    thresholds: str = typer.Option(
        "0.05:0.95:0.05",
        "--thresholds",
        help="TAG thresholds τ on normalised scores: comma list or start:stop:step.",
    ),
    tolerances: str = typer.Option(
        "0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.8,1.0",
        "--tolerances",
        help="TAG tolerances γ (comma list).",
    ),
    sigma: float = typer.Option(
        2.0, "--sigma", help="Gaussian smoothing (seconds) before thresholding."
    ),
    rank: str = typer.Option("contrast", "--rank", help="Proposal score: contrast, mean or sum."),
    nms_tiou: float = typer.Option(0.8, "--nms", help="NMS tIoU threshold."),
    max_proposals: int = typer.Option(100, "--max", help="Proposals kept per video."),
) -> None:
    """TAG grouping + NMS of per-second scores → proposals JSON."""
    import numpy as np

    from instructvid.actionness.proposals import TAGConfig, video_proposals
    from instructvid.io.coin import CoinFormatError, read_coin
    from instructvid.io.proposals import write_proposals

    if ":" in thresholds:
        a, b, c = _floats(thresholds.replace(":", ","), "--thresholds")
        taus = tuple(np.round(np.arange(a, b + c / 2, c), 4).tolist())
    else:
        taus = tuple(_floats(thresholds, "--thresholds"))
    try:
        cfg = TAGConfig(
            thresholds=taus,
            tolerances=tuple(_floats(tolerances, "--tolerances")),
            sigma=sigma,
            score=rank,
            nms_tiou=nms_tiou,
            max_proposals=max_proposals,
        )
        durations = (
            {k: v.duration for k, v in read_coin(annotations).items()} if annotations else {}
        )
        files = sorted(Path(scores).glob("*.npy"))
        if not files:
            raise FileNotFoundError(f"{scores}: no <vid>.npy score file")
        result = {}
        with progress_bar("proposals") as update:
            for k, path in enumerate(files):
                s = np.load(path, allow_pickle=False)
                result[path.stem] = video_proposals(s, durations.get(path.stem), config=cfg)
                update(k + 1, len(files))
        write_proposals(out, result)
    except (FileNotFoundError, ValueError, CoinFormatError) as exc:
        raise _fail(exc) from None
    console.print(f"wrote proposals of {len(result)} videos to [bold]{out}[/bold]")


@app.command("evaluate")
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
) -> None:
    """Frame AP (0.2 s segments) and AR@AN of baselines, score files, proposals and models."""
    from instructvid.actionness.evaluate import (
        baseline_sources,
        coin_eval_set,
        crosstask_eval_set,
        evaluate_methods,
        load_proposal_file,
        model_source,
        prior_proposals,
        scores_dir_source,
        supervised_source,
    )
    from instructvid.actionness.train import load_model
    from instructvid.io.coin import CoinFormatError
    from instructvid.io.crosstask import CrossTaskFormatError
    from instructvid.io.proposals import ProposalFormatError

    if (annotations is None) == (crosstask is None):
        raise typer.BadParameter("give exactly one of --annotations and --crosstask")
    names = [b.strip() for b in baselines.split(",") if b.strip()]
    if not (names or scores or proposal_files or model):
        raise typer.BadParameter(
            "nothing to evaluate: give --baselines, --scores, --proposals or --model"
        )
    try:
        es = (
            coin_eval_set(annotations, subset=subset, features=features)
            if annotations is not None
            else crosstask_eval_set(crosstask, seed=seed, features=features)
        )
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
            sets[key] = props
        with progress_bar("evaluating") as update:
            results = evaluate_methods(
                es,
                out,
                sources=sources,
                proposal_sets=sets,
                proposals=not no_proposals,
                progress=update,
            )
    except (
        CoinFormatError,
        CrossTaskFormatError,
        ProposalFormatError,
        FileNotFoundError,
        ValueError,
        KeyError,
    ) as exc:
        raise _fail(exc) from None
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


@app.command("sweep")
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
    from instructvid.actionness.evaluate import (
        coin_eval_set,
        crosstask_eval_set,
        training_selection,
    )
    from instructvid.actionness.sampling import TrainEvalOverlapError
    from instructvid.actionness.sweep import run_sweep
    from instructvid.actionness.train import TrainConfig

    if (annotations is None) == (crosstask is None):
        raise typer.BadParameter("give exactly one of --annotations and --crosstask")
    try:
        d_values = [int(x) for x in _floats(ranges, "--ranges")]
        m_values = [int(x) for x in _floats(clips_list, "--clips-list")]
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
        es = (
            coin_eval_set(annotations, subset=subset, features=features)
            if annotations is not None
            else crosstask_eval_set(crosstask, seed=seed, features=features)
        )
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
    except (TrainEvalOverlapError, FileNotFoundError, ValueError) as exc:
        raise _fail(exc) from None
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
