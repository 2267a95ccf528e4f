"""``instructvid actionness score`` and ``proposals``: per-second actionness, then proposals.

``score`` writes a trained model's per-second actionness of every video
(:func:`instructvid.actionness.proposals.score_video`); ``proposals`` turns a folder of
per-second scores into TAG + NMS proposals
(:func:`instructvid.actionness.proposals.video_proposals`, ActivityNet layout).
"""

from __future__ import annotations

from pathlib import Path

import typer

from instructvid.cli.actionness.options import CLIP_OPT, FEATURES_OPT, comma_floats
from instructvid.cli.stop import stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["proposals", "score"]


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
    from instructvid.actionness.model_io import load_model
    from instructvid.actionness.proposals import score_video
    from instructvid.actionness.video_selection import read_id_list
    from instructvid.io.atomic import atomic_save_npy
    from instructvid.io.crosstask import open_features
    from instructvid.io.ids import safe_join
    from instructvid.runtime import limit_torch_threads

    with stop_cleanly("score", also=(FileNotFoundError,)):
        net, _ = load_model(model, device=device)
        ids = (
            read_id_list(videos) if videos else sorted(p.stem for p in Path(features).glob("*.npy"))
        )
        # one small product per video: a single torch thread is much faster (docs/actionness.md)
        with progress_bar("scoring") as update, limit_torch_threads(1):
            for k, vid in enumerate(ids):
                s = score_video(
                    net, open_features(safe_join(features, f"{vid}.npy")), clip_seconds=clip_seconds
                )
                atomic_save_npy(safe_join(out, f"{vid}.npy"), s)
                update(k + 1, len(ids))
    console.print(f"scored {len(ids)} videos into [bold]{out}[/bold]")


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
    from instructvid.io.coin import read_coin
    from instructvid.io.ids import safe_join
    from instructvid.io.proposals import write_proposals

    if ":" in thresholds:
        a, b, c = comma_floats(thresholds.replace(":", ","), "--thresholds")
        taus = tuple(np.round(np.arange(a, b + c / 2, c), 4).tolist())
    else:
        taus = tuple(comma_floats(thresholds, "--thresholds"))
    with stop_cleanly("proposals", also=(FileNotFoundError,)):
        cfg = TAGConfig(
            thresholds=taus,
            tolerances=tuple(comma_floats(tolerances, "--tolerances")),
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
                s = np.load(safe_join(scores, path.name), allow_pickle=False)
                result[path.stem] = video_proposals(s, durations.get(path.stem), config=cfg)
                update(k + 1, len(files))
        write_proposals(out, result)
    console.print(f"wrote proposals of {len(result)} videos to [bold]{out}[/bold]")
