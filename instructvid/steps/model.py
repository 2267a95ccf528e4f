"""The component step model of thesis eq. 3.1, and inference with it (§3.4.1, §3.4.3).

M linear component classifiers ``g_m(x) = w_m·x + b_m`` act on a frame's features x ∈ R^d (one
row per second). Step k of task τ scores ``f_k^τ(x) = Σ_m A^τ_km g_m(x) / Σ_m A^τ_km``; the
logits of a video are therefore, with ``Â^τ`` the (M, K) column-normalised transpose of A^τ::

    O = (X Wᵀ + b) Â^τ = X (Wᵀ Â^τ) + b Â^τ          (T, K)

and the second form is how they are computed: one (d, K) product per task instead of scoring
all M components on every frame. The step probabilities are ``softmax_k(O)`` (over the task's K
steps, no background class); inference is the exactly-one ordered DP maximising
``log softmax(O)`` (the authors' ``dp(y, -O)``).

What the components are depends on the sharing level (:mod:`instructvid.text.components`).
Steps of a new task are scored with the components they share with the training tasks
(novel-task transfer, §3.6.3); their unknown words are left out of the average, and a step
with no known component gets the mean of the other steps' logits at each second (a neutral
score), with an :class:`~instructvid.text.components.UnknownComponentsWarning`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.align.dp import ordered_assignment
from instructvid.io.atomic import atomic_open, atomic_write_json
from instructvid.text.components import (
    ComponentVocabulary,
    EncodedSteps,
    UnknownComponentsWarning,
    normalise_columns,
)

__all__ = ["Localization", "StepModel"]  # and LinearComponents (torch, built lazily)


def _linear_components_class() -> type:
    """Build the torch module class on first use (torch is not imported with this module)."""
    from torch import nn

    class LinearComponents(nn.Module):
        """The authors' ``Model``: ``fc(dropout(x)) @ A`` with ``fc`` a d→M linear layer.

        Args:
            dim: d, the feature dimension.
            n_components: M.
            dropout: probability of zeroing an input coordinate (the authors' keep-prob
                q = 0.7 is ``dropout = 0.3``).
        """

        def __init__(self, dim: int, n_components: int, dropout: float = 0.3) -> None:
            super().__init__()
            self.fc = nn.Linear(dim, n_components)
            self.drop = nn.Dropout(p=dropout)

        def forward(self, x: Any, a: Any) -> Any:
            """Logits (T, K) of features ``x`` (T, d) for a normalised (M, K) matrix ``a``."""
            return self.fc(self.drop(x)).matmul(a)

    return LinearComponents


_LAZY: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """``LinearComponents`` (a torch ``nn.Module``) is created when first asked for."""
    if name == "LinearComponents":
        if name not in _LAZY:
            _LAZY[name] = _linear_components_class()
        return _LAZY[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Localization:
    """Step times of one video.

    Attributes:
        steps: the K step texts.
        seconds: (K,) int, the predicted second of each step (feature row; the step is placed
            in ``[seconds[k], seconds[k] + 1)`` s).
        labels: (T, K) uint8 exactly-one assignment (one 1 per column, increasing rows).
        log_probs: (T, K) float32 step log-probabilities (log-softmax over the K steps).
        unknown: ``{k: [unknown word, ...]}`` (see :class:`EncodedSteps`).
    """

    steps: tuple[str, ...]
    seconds: np.ndarray
    labels: np.ndarray
    log_probs: np.ndarray
    unknown: dict[int, list[str]]

    def to_json(self) -> dict[str, object]:
        """``{"steps": [{"step", "index", "second", "start_s", "end_s", "log_prob"}], ...}``."""
        rows = []
        for k, step in enumerate(self.steps):
            t = int(self.seconds[k])
            rows.append(
                {
                    "index": k + 1,
                    "step": step,
                    "second": t,
                    "start_s": float(t),
                    "end_s": float(t + 1),
                    "log_prob": float(self.log_probs[t, k]),
                    "unknown_words": self.unknown.get(k, []),
                }
            )
        return {"n_seconds": int(self.labels.shape[0]), "steps": rows}


@dataclass
class StepModel:
    """Learned component classifiers and their vocabulary (the fitted part of a learner).

    Attributes:
        vocabulary: the components (sharing level, stemming, training tasks' step lists).
        weight: (M, d) float32, row m is component m's classifier (``nn.Linear`` layout).
        bias: (M,) float32.
    """

    vocabulary: ComponentVocabulary
    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        self.weight = np.ascontiguousarray(self.weight, dtype=np.float32)
        self.bias = np.ascontiguousarray(self.bias, dtype=np.float32)
        m = self.vocabulary.n_components
        if self.weight.ndim != 2 or self.weight.shape[0] != m or self.bias.shape != (m,):
            raise ValueError(
                f"weight must be (M, d) and bias (M,) with M = {m}, got {self.weight.shape} "
                f"and {self.bias.shape}"
            )

    @property
    def dim(self) -> int:
        """d, the feature dimension."""
        return int(self.weight.shape[1])

    # ---------------------------------------------------------------------------------------
    # Steps → components

    def encode(
        self, *, task_id: str | None = None, steps: Sequence[str] | None = None, warn: bool = True
    ) -> EncodedSteps:
        """The components of a task's steps, or of an explicit step list.

        Args:
            task_id: a task; its steps are the training task card's unless ``steps`` is given.
            steps: explicit step texts (a new task).
            warn: emit an :class:`UnknownComponentsWarning` naming unknown words.

        Raises:
            ValueError: neither ``task_id`` nor ``steps``; a task that is not a training task
                without ``steps``; or no step with a known component.
        """
        if steps is None:
            if task_id is None:
                raise ValueError("give a task id or a list of steps")
            if task_id not in self.vocabulary.task_steps:
                raise ValueError(
                    f"task {task_id!r} was not seen in training; give its steps explicitly"
                )
            steps = self.vocabulary.task_steps[task_id]
        encoded = self.vocabulary.encode(list(steps), task_id=task_id)
        if encoded.n_unscorable == len(encoded.steps):
            raise ValueError(
                f"none of the steps has a known component at sharing level "
                f"{self.vocabulary.share!r}: {encoded.describe_unknown()}"
            )
        if warn and encoded.unknown:
            warnings.warn(
                "words without a trained component classifier (left out of the step scores): "
                + encoded.describe_unknown(),
                UnknownComponentsWarning,
                stacklevel=2,
            )
        return encoded

    def step_weights(self, encoded: EncodedSteps) -> tuple[np.ndarray, np.ndarray]:
        """(d, K) weights ``Wᵀ Â`` and (K,) bias ``b Â`` of the step classifiers."""
        a = normalise_columns(encoded.matrix.T)  # (M, K)
        return self.weight.T @ a, self.bias @ a

    # ---------------------------------------------------------------------------------------
    # Scores and inference

    def logits(self, features: np.ndarray, encoded: EncodedSteps) -> np.ndarray:
        """(T, K) float32 step logits of (T, d) features (no dropout: inference).

        Steps with no known component get the mean of the other steps' logits.
        """
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"features must be (T, {self.dim}) (one row per second), got {x.shape}"
            )
        v, c = self.step_weights(encoded)
        out = x @ v + c
        empty = encoded.matrix.sum(axis=1) == 0
        if empty.any():
            out[:, empty] = out[:, ~empty].mean(axis=1, keepdims=True)
        return out

    def log_probs(self, features: np.ndarray, encoded: EncodedSteps) -> np.ndarray:
        """(T, K) float32 log-softmax over the K steps of :meth:`logits`."""
        return log_softmax(self.logits(features, encoded))

    def localize(
        self,
        features: np.ndarray,
        *,
        task_id: str | None = None,
        steps: Sequence[str] | None = None,
        warn: bool = True,
    ) -> Localization:
        """Predict the second of each step in a video (exactly-one DP on the log-softmax).

        Args:
            features: (T, d) features, one row per second; T >= K.
            task_id, steps: as in :meth:`encode`.

        Returns:
            :class:`Localization` with times in seconds.
        """
        encoded = self.encode(task_id=task_id, steps=steps, warn=warn)
        lp = self.log_probs(features, encoded)
        labels = ordered_assignment(lp, exactly_one=True, maximize=True)
        return Localization(
            steps=encoded.steps,
            seconds=labels.argmax(axis=0),
            labels=labels,
            log_probs=lp,
            unknown=encoded.unknown,
        )

    # ---------------------------------------------------------------------------------------
    # Persistence

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/model.npz`` (weight, bias) and ``folder/vocabulary.json`` atomically."""
        folder = Path(folder)
        atomic_write_json(folder / "vocabulary.json", self.vocabulary.to_json())
        with atomic_open(folder / "model.npz", "wb") as handle:
            np.savez(handle, weight=self.weight, bias=self.bias)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> StepModel:
        """Read a model written by :meth:`save`."""
        folder = Path(folder)
        for name in ("model.npz", "vocabulary.json"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{folder / name} not found: not a trained step model")
        vocabulary = ComponentVocabulary.from_json(
            json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        )
        with np.load(folder / "model.npz") as arrays:
            return cls(vocabulary=vocabulary, weight=arrays["weight"], bias=arrays["bias"])


def log_softmax(o: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of a (T, K) array, numerically stable, float32."""
    o = np.asarray(o, dtype=np.float32)
    z = o - o.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
