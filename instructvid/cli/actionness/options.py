"""Options shared by the ``instructvid actionness`` commands.

The feature folder, the dataset (``--annotations`` or ``--crosstask``), ``--seed``,
``--device`` and ``--clip-seconds``; :func:`check_one_dataset` (exactly one of the two datasets)
and :func:`open_eval_set` (the evaluated videos of the one given); :func:`comma_floats` (a
comma-separated list of numbers, or a usage error naming the option). Commands stop on bad
input through :mod:`instructvid.cli.stop`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from instructvid.actionness.eval.sets import EvalSet

__all__ = [
    "ANNOTATIONS_OPT",
    "CLIP_OPT",
    "CROSSTASK_OPT",
    "DEVICE_OPT",
    "FEATURES_OPT",
    "SEED_OPT",
    "check_one_dataset",
    "comma_floats",
    "open_eval_set",
]

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


def comma_floats(text: str, what: str) -> list[float]:
    """The numbers of a comma-separated list; a usage error naming option ``what`` otherwise."""
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"expected comma-separated numbers, got {text!r}", param_hint=what
        ) from None


def check_one_dataset(annotations: Path | None, crosstask: Path | None) -> None:
    """A usage error unless exactly one of ``--annotations`` and ``--crosstask`` is given."""
    if (annotations is None) == (crosstask is None):
        raise typer.BadParameter("give exactly one of --annotations and --crosstask")


def open_eval_set(
    annotations: Path | None,
    crosstask: Path | None,
    *,
    subset: str,
    seed: int,
    features: Path | None,
) -> EvalSet:
    """The evaluated videos: ``subset`` of the ``--annotations`` file, or the test part of the
    seeded random split of the ``--crosstask`` DATA (one of the two is given; see
    :func:`check_one_dataset`); ``features``: their per-second feature folder, if any."""
    from instructvid.actionness.eval.sets import coin_eval_set, crosstask_eval_set

    if annotations is not None:
        return coin_eval_set(annotations, subset=subset, features=features)
    assert crosstask is not None
    return crosstask_eval_set(crosstask, seed=seed, features=features)
