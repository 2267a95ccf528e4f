"""The state of one training run that epochs share: videos, features, masks, θ and optimiser.

:class:`TrainingState` holds the training videos, their :class:`FeatureStore`, each task's Â
and each video's outside-interval mask, the parameters θ = (W, b) and their optimiser — NumPy
arrays and :class:`~instructvid.steps.training.adam.Adam` (fast engine on CPU), torch tensors and the
same Adam (fast engine on torch), or the authors' ``nn.Module`` and ``torch.optim.Adam``
(reference engine) — with their conversion to and from NumPy for the checkpoint.
:class:`EpochStats` accumulates an epoch's entry of the learner's ``history_``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from instructvid.steps.training.adam import Adam, assign, to_numpy
from instructvid.steps.training.data import FeatureStore, TrainVideo
from instructvid.steps.training.gradients import theta_gradient, theta_gradient_np

__all__ = ["EpochStats", "TrainingState"]

_NO_ROWS = np.zeros(0, dtype=bool)


@dataclass
class TrainingState:
    """Everything an epoch needs besides the learner's hyper-parameters: the videos, their
    features and masks, the parameters and the optimiser (NumPy or torch)."""

    videos: list[TrainVideo]
    store: FeatureStore
    a_np: dict[str, np.ndarray]
    feasible: list[bool]
    outside: list[np.ndarray | None]
    weight: Any = None
    bias: Any = None
    adam: Adam | None = None
    net: Any = None
    optimizer: Any = None
    device: Any = None
    a_torch: dict[str, Any] = field(default_factory=dict)
    s_np: dict[int, np.ndarray] = field(default_factory=dict)
    _eye: dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for a in self.a_np.values():
            self.s_np[id(a)] = a.T @ a

    def setup_torch(
        self,
        engine: str,
        weight: np.ndarray,
        bias: np.ndarray,
        dropout: float,
        lr: float,
        device: Any,
    ) -> None:
        """Torch parameters: the authors' module and optimiser (reference) or tensors + Adam."""
        import torch

        from instructvid.steps.model import LinearComponents

        device = torch.device(device)
        self.device = device
        self.a_torch = {t: torch.from_numpy(a).to(device) for t, a in self.a_np.items()}
        if engine == "reference":
            self.net = LinearComponents(weight.shape[1], weight.shape[0], dropout).to(device)
            with torch.no_grad():
                self.net.fc.weight.copy_(torch.from_numpy(weight))
                self.net.fc.bias.copy_(torch.from_numpy(bias))
            self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)
            self.weight, self.bias = self.net.fc.weight, self.net.fc.bias
        else:
            self.weight = torch.from_numpy(weight.copy()).to(device)
            self.bias = torch.from_numpy(bias.copy()).to(device)
            self.adam = Adam([self.weight, self.bias], lr)

    def eye(self, k: int) -> np.ndarray:
        if k not in self._eye:
            self._eye[k] = np.eye(k, dtype=np.float32)
        return self._eye[k]

    def numpy_parameters(self) -> tuple[np.ndarray, np.ndarray]:
        return to_numpy(self.weight), to_numpy(self.bias)

    def load_parameters(self, weight: np.ndarray, bias: np.ndarray) -> None:
        assign(self.weight, weight)
        assign(self.bias, bias)

    def optimizer_state(self) -> dict[str, np.ndarray]:
        if self.adam is not None:
            return self.adam.state()
        state = self.optimizer.state_dict()["state"]
        if not state:
            return {"adam_step": np.array(0)}
        return {
            "adam_step": np.array(int(float(state[0]["step"]))),
            **{f"adam_m{i}": to_numpy(state[i]["exp_avg"]) for i in (0, 1)},
            **{f"adam_v{i}": to_numpy(state[i]["exp_avg_sq"]) for i in (0, 1)},
        }

    def load_optimizer_state(self, state: Mapping[str, np.ndarray]) -> None:
        if self.adam is not None:
            self.adam.load(state)
            return
        import torch

        step = int(state["adam_step"])
        if step == 0:
            return
        params = list(self.net.parameters())
        for i, p in enumerate(params):
            self.optimizer.state[p] = {
                "step": torch.tensor(float(step)),
                "exp_avg": torch.from_numpy(state[f"adam_m{i}"].copy()).to(p.device),
                "exp_avg_sq": torch.from_numpy(state[f"adam_v{i}"].copy()).to(p.device),
            }

    def theta_step(self, x: np.ndarray, y: np.ndarray, inv_t: np.ndarray, task_id: str) -> float:
        """One Adam step on the labelled rows ``x`` (N, d), ``y`` (N, K); returns the loss.

        Fast engines only (the supervised topline always runs on them; the reference engine
        steps its own ``torch.optim.Adam``).
        """
        assert self.adam is not None, "theta_step needs the fast engines' Adam"
        if isinstance(self.weight, np.ndarray):
            gw, gb, loss = theta_gradient_np(
                x, y, inv_t, self.weight, self.bias, self.a_np[task_id]
            )
        else:
            import torch

            dev = self.device
            with torch.no_grad():
                gw, gb, loss = theta_gradient(
                    torch.from_numpy(x).to(dev),
                    torch.from_numpy(y).to(dev),
                    torch.from_numpy(inv_t).to(dev),
                    self.weight,
                    self.bias,
                    self.a_torch[task_id],
                )
        self.adam.step([gw, gb])
        return loss

    def batch_masks(
        self, items: Sequence[int], k: int, hard: bool
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """Stacked (N, K) outside-interval mask of a batch (``None`` if no video has one) and
        the (N,) rows whose cells outside the intervals are forbidden (hard constraints on a
        video that admits a labelling inside them)."""
        masks = [self.outside[i] for i in items]
        if all(m is None for m in masks):
            return None, _NO_ROWS
        stacked = np.concatenate(
            [
                m if m is not None else np.zeros((self.videos[i].n_frames, k), dtype=bool)
                for m, i in zip(masks, items, strict=True)
            ]
        )
        hard_row = np.concatenate(
            [np.full(self.videos[i].n_frames, hard and self.feasible[i], dtype=bool) for i in items]
        )
        return stacked, hard_row


@dataclass
class EpochStats:
    """Per-epoch bookkeeping: loss, labels outside the intervals, labels moved."""

    loss: float = 0.0
    outside: int = 0
    changed: int = 0
    labels: int = 0
    alternating: bool = False

    def record(
        self, ctx: TrainingState, i: int, new: np.ndarray, old: np.ndarray | None, penalty: float
    ) -> None:
        v = ctx.videos[i]
        self.labels += v.n_steps
        if old is not None:
            self.alternating = True
            self.changed += int((new != old).sum())
        mask = ctx.outside[i]
        if mask is not None:
            n_out = int(mask[new, np.arange(v.n_steps)].sum())
            self.outside += n_out
            self.loss += penalty * n_out / v.n_frames

    def as_record(self, epoch: int, phase: str) -> dict[str, Any]:
        n = max(self.labels, 1)
        return {
            "epoch": epoch + 1,
            "phase": phase,
            "loss": self.loss,
            "outside": self.outside / n,
            "changed": self.changed / n if self.alternating else None,
        }
