"""Options shared by the ``instructvid actionness`` commands.

The feature folder, the dataset (``--annotations`` or ``--crosstask``), ``--seed``,
``--device`` and ``--clip-seconds``; :func:`comma_floats` (a comma-separated list of numbers, or
a usage error naming the option). Commands stop on bad input through :mod:`instructvid.cli.stop`.
"""

from __future__ import annotations

import typer

__all__ = [
    "ANNOTATIONS_OPT",
    "CLIP_OPT",
    "CROSSTASK_OPT",
    "DEVICE_OPT",
    "FEATURES_OPT",
    "SEED_OPT",
    "comma_floats",
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
