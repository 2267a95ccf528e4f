"""Say when an order-verification model did not learn (its loss stayed at chance).

The defaults of ``actionness train`` are the thesis's, for ~1.2 M real videos (lr 1e-4, one
sequence per video and epoch). On a small world (``actionness synth``) that is a few hundred
updates in all: the loss stays at ln 2 ≈ 0.693, the value of guessing, and the accuracy near
0.5. :func:`not_learning` recognises that from the per-epoch history and says what to change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["CHANCE_LOSS", "SMALL_WORLD_SETTINGS", "not_learning"]

#: Binary cross-entropy of a guess (p = 0.5): the loss of a model that learned nothing.
CHANCE_LOSS = math.log(2.0)

#: Settings that learn on the synthetic worlds (docs/actionness.md, "Measured"; the demo's).
SMALL_WORLD_SETTINGS = "--sequences-per-video 200 --lr 1e-3"


def not_learning(
    history: Sequence[Mapping[str, float]], *, min_drop: float = 0.02, near_chance: float = 0.02
) -> str | None:
    """A warning when the loss did not fall below chance, or None.

    Args:
        history: per-epoch ``{"loss", "accuracy", ...}`` (as in ``train.json``).
        min_drop: the relative fall of the loss (first → last epoch) below which the run is
            said not to learn.
        near_chance: ... and only while the last loss is within this of ln 2.
    """
    if len(history) < 2:
        return None
    first, last = float(history[0]["loss"]), float(history[-1]["loss"])
    if not (math.isfinite(first) and math.isfinite(last)) or first <= 0:
        return None
    if (first - last) / first >= min_drop or abs(last - CHANCE_LOSS) > near_chance:
        return None
    accuracy = float(history[-1].get("accuracy", float("nan")))
    return (
        f"the loss did not fall ({first:.4f} → {last:.4f} over {len(history)} epochs; "
        f"guessing gives {CHANCE_LOSS:.4f}, accuracy {accuracy:.2f}): the model has not learned. "
        "The defaults are the thesis's, for ~1.2 M real videos; on a small or synthetic set "
        f"give more updates, e.g. {SMALL_WORLD_SETTINGS} (docs/actionness.md)"
    )
