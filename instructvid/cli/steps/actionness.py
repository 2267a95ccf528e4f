"""The ``--actionness`` plumbing of ``steps benchmark``, ``steps localize`` and ``steps run`` (eq. 4.4).

Their shared options, telling an actionness model from a folder of score arrays, and turning
either into what the step library takes: a scoring function (:func:`actionness_scorer`),
:class:`~instructvid.steps.benchmark.actionness.ActionnessSettings` (:func:`actionness_settings`)
or the source of ``steps run`` (:func:`actionness_source`). The
actionness library loads and runs the model; ``steps`` itself only sees per-second arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    import numpy as np

    from instructvid.steps.benchmark.actionness import ActionnessSettings

__all__ = [
    "ACTIONNESS_OPT",
    "ALPHA_OPT",
    "STANDARDIZE_OPT",
    "actionness_scorer",
    "actionness_settings",
    "actionness_source",
    "is_actionness_model",
]

ACTIONNESS_OPT = typer.Option(
    None,
    "--actionness",
    help="Per-second actionness for eq. 4.4: a folder of <vid>.npy (T,) arrays (as written by "
    "`actionness score`), or an actionness model (RUN folder or model.pt) that scores the "
    "videos' features (cached under OUT/actionness/).",
)
ALPHA_OPT = typer.Option(
    None,
    "--alpha",
    help="Weight α of actionness in eq. 4.4, (1 − α) f + α S, in [0, 1] (default: chosen per "
    "split on the validation videos, videos_val.csv).",
)
STANDARDIZE_OPT = typer.Option(
    False,
    "--standardize-actionness",
    help="z-score the actionness within each video before adding it (default: raw values).",
)


def is_actionness_model(src: Path) -> bool:
    """An actionness model (model.pt, or a RUN folder holding one) rather than score arrays."""
    return (src.is_file() and src.suffix == ".pt") or (
        src.is_dir() and (src / "model.pt").is_file()
    )


def actionness_scorer(
    src: Path,
) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
    """(score_fn (T, d) → (T,), identity) of an actionness model; the actionness library does
    the work (load_model, score_video with 1 s clips on one torch thread, as `actionness score`)."""
    from instructvid.actionness.model_io import load_model
    from instructvid.actionness.proposals import score_video
    from instructvid.runtime import limit_torch_threads
    from instructvid.steps.benchmark.actionness import file_identity

    net, _ = load_model(src, device="cpu")
    model_file = src / "model.pt" if src.is_dir() else src
    identity = {"model": file_identity(model_file), "clip_seconds": 1}

    def score_fn(x: np.ndarray) -> np.ndarray:  # (T, d) features → (T,) float64
        with limit_torch_threads(1):  # one small product per video
            return score_video(net, x, clip_seconds=1)

    return score_fn, identity


def actionness_settings(
    src: Path, alpha: float | None, standardize: bool, cache_root: Path
) -> ActionnessSettings:
    """ActionnessSettings of `benchmark --actionness SRC [--alpha A]`."""
    from instructvid.steps.benchmark.actionness import (
        ActionnessSettings,
        ComputedActionness,
        FolderActionness,
    )

    if not src.exists():
        raise typer.BadParameter(f"{src} not found", param_hint="--actionness")
    if is_actionness_model(src):
        score_fn, identity = actionness_scorer(src)
        source = ComputedActionness(score_fn, cache_root, identity)
    elif src.is_dir():
        source = FolderActionness(src)
    else:
        raise typer.BadParameter(
            f"{src}: expected a folder of <vid>.npy actionness arrays, an actionness RUN "
            "folder or a model.pt",
            param_hint="--actionness",
        )
    try:
        return ActionnessSettings(source, alpha=alpha, standardize=standardize)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--alpha") from None


def actionness_source(path: Path) -> Callable[[np.ndarray], np.ndarray] | Path:
    """What ``steps run --actionness PATH`` hands the pipeline: the scoring function of an
    actionness model, or the folder of ``<video_id>.npy`` arrays itself.

    Raises:
        ValueError: ``path`` is missing, or neither kind.
    """
    if not path.exists():
        raise ValueError(f"--actionness: {path} not found")
    if is_actionness_model(path):
        return actionness_scorer(path)[0]
    if path.is_dir():
        return path
    raise ValueError(
        f"--actionness: {path} is neither an actionness model (RUN folder or model.pt) nor a "
        "folder of <video_id>.npy arrays"
    )
