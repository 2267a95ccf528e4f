"""Adam on NumPy arrays or torch tensors: the fast engine's optimiser.

The update is ``torch.optim.Adam``'s (default betas and eps); the reference engine uses
``torch.optim.Adam`` itself, like the authors. :meth:`Adam.state` / :meth:`Adam.load` give the
moments as NumPy arrays (``adam_step``, ``adam_m{i}``, ``adam_v{i}``) for the checkpoint;
:func:`to_numpy` and :func:`assign` move parameters between NumPy and torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["Adam", "assign", "to_numpy"]


class Adam:
    """Adam (Kingma & Ba), the update of ``torch.optim.Adam`` with default betas and eps.

    Works on NumPy arrays or torch tensors (updated in place). State: ``step`` and the first
    and second moments ``m``, ``v`` of each parameter.
    """

    def __init__(self, params: Sequence[Any], lr: float, betas=(0.9, 0.999), eps=1e-8) -> None:
        self.params = list(params)
        self.lr = float(lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.step_count = 0
        self.m = [p * 0 for p in self.params]
        self.v = [p * 0 for p in self.params]

    def step(self, grads: Sequence[Any]) -> None:
        self.step_count += 1
        b1, b2 = self.beta1, self.beta2
        c1 = 1.0 - b1**self.step_count
        c2_sqrt = (1.0 - b2**self.step_count) ** 0.5
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            p -= (self.lr / c1) * m / (v**0.5 / c2_sqrt + self.eps)

    def state(self) -> dict[str, np.ndarray]:
        return {
            "adam_step": np.array(self.step_count),
            **{f"adam_m{i}": to_numpy(m) for i, m in enumerate(self.m)},
            **{f"adam_v{i}": to_numpy(v) for i, v in enumerate(self.v)},
        }

    def load(self, state: Mapping[str, np.ndarray]) -> None:
        self.step_count = int(state["adam_step"])
        for i in range(len(self.params)):
            assign(self.m[i], state[f"adam_m{i}"])
            assign(self.v[i], state[f"adam_v{i}"])


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy of a NumPy array or a torch tensor (any device)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    return x.detach().cpu().numpy().copy()


def assign(target: Any, value: np.ndarray) -> None:
    """In-place copy of a NumPy array into a NumPy array or a torch tensor."""
    if isinstance(target, np.ndarray):
        target[...] = value
    else:
        import torch

        with torch.no_grad():
            target.copy_(torch.from_numpy(np.asarray(value)).to(target.device))
