"""The step model's hyper-parameters: one frozen dataclass, its defaults in one place.

:class:`StepHyperParameters` holds what the learner's result depends on besides the data and
the constraint/sharing options: learning rate, input dropout, the two epoch counts and the
videos per Adam step. Its defaults (chosen on the validation videos of the medium synthetic
world with ``steps tune``; the authors' values are lr 1e-5, dropout 0.3, one video per step) are
the only ones: the learner, the benchmark's methods (which may start from other values, e.g.
``task``) and the command-line help read them from here.

Overrides arrive by name (``{"lr": 1e-3, "batch_videos": 16}``: the command line's flags, a
``steps tune`` grid point); :meth:`StepHyperParameters.override` checks the names and gives
each value its field's type (an integer setting given as ``16.0`` becomes ``16``; ``16.5`` is
refused).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["StepHyperParameters", "format_default", "typed_overrides"]


@dataclass(frozen=True)
class StepHyperParameters:
    """Hyper-parameters of :class:`~instructvid.steps.training.learner.StepLearner`.

    Attributes:
        lr: Adam learning rate, also δ of eq. A.14.
        dropout: input dropout probability in [0, 1) (the authors' 0.3: keep-prob 0.7).
        epochs_init: initialisation epochs (random constraint-satisfying labels).
        epochs: alternation epochs (Y-update by the DP, θ-step by Adam).
        batch_videos: videos of one task per Adam step (1 with ``a14="autograd"``: the
            authors' reference loop).
    """

    lr: float = 3e-4
    dropout: float = 0.3
    epochs_init: int = 30
    epochs: int = 30
    batch_videos: int = 32

    def override(
        self, values: Mapping[str, float | int], *, ignore: Iterable[str] = ()
    ) -> StepHyperParameters:
        """A copy with ``values`` set (typed by field); names in ``ignore`` are skipped.

        Raises:
            ValueError: an unknown name, or a non-integer value of an integer setting.
        """
        skipped = set(ignore)
        return replace(
            self, **typed_overrides(self, {k: v for k, v in values.items() if k not in skipped})
        )


def typed_overrides(settings: Any, values: Mapping[str, float | int]) -> dict[str, Any]:
    """``values`` checked against the fields of the dataclass ``settings`` and given their types.

    Raises:
        ValueError: an unknown name, or a non-integer value of an integer field.
    """
    kinds = {f.name: getattr(settings, f.name) for f in fields(settings)}
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise ValueError(f"unknown hyper-parameter(s) {unknown}; known: {sorted(kinds)}")
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(kinds[name], int):
            if float(value) != int(value):
                raise ValueError(f"hyper-parameter {name} must be an integer, got {value}")
            out[name] = int(value)
        else:
            out[name] = float(value)
    return out


def format_default(value: float) -> str:
    """A default as the help texts print it: ``3e-4``, ``0.3``, ``30``."""
    if isinstance(value, int) or 1e-3 <= abs(value) < 1e4:
        return f"{value:g}"
    return re.sub(r"e([+-])0*(\d)", lambda m: f"e{m[1].lstrip('+')}{m[2]}", f"{value:.0e}")
