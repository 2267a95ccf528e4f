"""Alayrac et al. 2016's visual model as a baseline (thesis Table 3.3, "[Alayrac et al. 2016]").

DIFFRAC discriminative clustering (Bach & Harchaoui 2007) with a square loss and a linear model,
one model per task (no sharing), the same constraints as the proposed method (ordering, one
second per step, narration intervals), as the thesis describes its comparison (§3.6.1).

For a task, stack its training videos' frames X (N, d) and labels Y (N, K). The objective::

    f(Y) = min_{W, b} 1/(2N) ‖Y − X W − 1 bᵀ‖²_F + (ρ/2) ‖W‖²_F  (+ λ ⟨C, Y⟩ with the penalty)

has the closed-form minimiser W*(Y) = (X̄ᵀX̄ + NρI)⁻¹ X̄ᵀ Ȳ (bars: columns centred, which
eliminates b), and ``f`` is a convex quadratic in Y with gradient ``(Ȳ − X̄ W*(Y)) / N``.
Y is relaxed to the convex hull of the constraint set (a product over videos of the ordered
exactly-one assignments, intersected with the narration intervals when they are hard).
**Frank–Wolfe**: the linear minimisation oracle over that hull is the ordered-assignment DP on
the gradient (one call per video, batched); the step size is the exact line search of the
quadratic. After ``fw_iterations`` iterations the relaxed Y is **rounded** per video by the DP
(the constraint-satisfying labelling with the largest overlap ⟨Y, Z⟩), W is refitted on the
rounded labels, and test videos are labelled by the exactly-one DP maximising X W + b.

Hyper-parameters (:class:`AlayracSettings`, overridden by ``MethodOptions.hyper``):
``fw_iterations`` (default 50) and ``ridge`` ρ (default 0.1, chosen on the validation videos). Features of one task's training videos are held
in memory while it is fitted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from instructvid.align.dp import ordered_assignment, ordered_assignment_batch
from instructvid.io.crosstask import CrossTaskData
from instructvid.runtime import limit_threads
from instructvid.steps.benchmark.types import MethodOptions
from instructvid.steps.training.settings import typed_overrides

__all__ = ["AlayracModel", "AlayracSettings", "DiffracTask", "fit_alayrac", "predict_alayrac"]


@dataclass(frozen=True)
class AlayracSettings:
    """Hyper-parameters of ``alayrac`` (``MethodOptions.hyper`` overrides them by name).

    The ridge was chosen on the validation videos of the medium synthetic world (ridge
    0.01 … 10: 0.1 is best, 27.1 % validation recall; 0.03: 24.5, 1: 25.1).

    Attributes:
        fw_iterations: Frank–Wolfe iterations.
        ridge: ρ.
    """

    fw_iterations: int = 50
    ridge: float = 0.1


@dataclass
class DiffracTask:
    """DIFFRAC on one task's training videos.

    Args:
        features: per video (T_v, d) float arrays, one row per second.
        n_steps: K.
        outside: per video (T_v, K) bool mask of cells outside the narration intervals, or
            ``None`` (no constraint for that video).
        constraints: ``"penalty"`` (λ added to the linear term outside the intervals),
            ``"hard"`` (forbidden cells; a video whose intervals admit no ordered labelling
            falls back to the penalty) or ``"none"``.
        penalty: λ.
        ridge: ρ.
        fw_iterations: Frank–Wolfe iterations.
        random_state: seed of the initial vertex (the DP on random scores + constraints, as
            the step learner's initialisation).

    Attributes (after :meth:`fit`):
        labels_: per video (T_v, K) uint8 rounded labels.
        weight_: (d, K); bias_: (K,).
        objective_: f(Y) + λ⟨C, Y⟩ at every iteration (relaxed Y); the last entry after
            rounding.
    """

    features: Sequence[np.ndarray]
    n_steps: int
    outside: Sequence[np.ndarray | None]
    constraints: str = "penalty"
    penalty: float = 1e4
    ridge: float = 1e-3
    fw_iterations: int = 50
    random_state: int = 0

    def fit(self) -> DiffracTask:
        """Frank–Wolfe on the relaxed labels, DP rounding, ridge refit; returns self."""
        x = np.concatenate([np.asarray(f, dtype=np.float64) for f in self.features])
        self._offsets = np.concatenate([[0], np.cumsum([len(f) for f in self.features])])
        n, d = x.shape
        self._n = n
        self._mean = x.mean(axis=0)
        self._xc = x - self._mean
        self._chol = cho_factor(self._xc.T @ self._xc + n * self.ridge * np.eye(d))
        lin = self._linear_term()  # +inf where forbidden
        finite = np.where(np.isinf(lin), 0.0, lin)
        rng = np.random.default_rng(self.random_state)
        y = self._oracle(rng.random(lin.shape) + lin)
        self.objective_: list[float] = []
        for _ in range(int(self.fw_iterations)):
            grad, value = self._gradient(y)
            self.objective_.append(value + float((finite * y).sum()))
            direction = self._oracle(grad + lin) - y
            slope = float(((grad + finite) * direction).sum())
            if slope >= -1e-12:
                break  # Frank–Wolfe gap ~ 0: optimal over the hull
            curvature = self._curvature(direction)
            gamma = 1.0 if curvature <= 0 else min(1.0, -slope / curvature)
            y = y + gamma * direction
        rounded = self._oracle(lin - y)
        self.labels_ = [
            rounded[self._offsets[i] : self._offsets[i + 1]].astype(np.uint8)
            for i in range(len(self.features))
        ]
        self.weight_ = self._solve(rounded)
        self.bias_ = rounded.mean(axis=0) - self._mean @ self.weight_
        self.objective_.append(self._gradient(rounded)[1] + float((finite * rounded).sum()))
        return self

    def _solve(self, y: np.ndarray) -> np.ndarray:
        """W*(Y), (d, K)."""
        return cho_solve(self._chol, self._xc.T @ (y - y.mean(axis=0)))

    def _gradient(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        """(∇f (N, K), f) at Y."""
        yc = y - y.mean(axis=0)
        residual = yc - self._xc @ cho_solve(self._chol, self._xc.T @ yc)
        return residual / self._n, float((yc * residual).sum()) / (2 * self._n)

    def _curvature(self, direction: np.ndarray) -> float:
        """Dᵀ∇²f D = ⟨D̄, D̄ − X̄ W*(D)⟩ / N."""
        dc = direction - direction.mean(axis=0)
        w = cho_solve(self._chol, self._xc.T @ dc)
        return float((dc * (dc - self._xc @ w)).sum()) / self._n

    def _linear_term(self) -> np.ndarray:
        """Stacked (N, K): λ outside the intervals (penalty), +inf (hard) or 0."""
        blocks = []
        for f, o in zip(self.features, self.outside, strict=True):
            block = np.zeros((len(f), self.n_steps))
            if o is not None and self.constraints != "none":
                hard = self.constraints == "hard" and _feasible(o)
                block[o] = np.inf if hard else self.penalty
            blocks.append(block)
        return np.concatenate(blocks)

    def _oracle(self, cost: np.ndarray) -> np.ndarray:
        """Per-video exactly-one DP minimising stacked (N, K) costs; stacked 0/1 labels."""
        parts = [cost[self._offsets[i] : self._offsets[i + 1]] for i in range(len(self.features))]
        return np.concatenate(
            ordered_assignment_batch(parts, exactly_one=True, maximize=False)
        ).astype(np.float64)


def _feasible(outside: np.ndarray) -> bool:
    """Whether an ordered exactly-one labelling fits inside the intervals."""
    try:
        ordered_assignment(np.where(outside, np.inf, 0.0), exactly_one=True, maximize=False)
    except ValueError:
        return False
    return True


@dataclass
class AlayracModel:
    """Per-task linear step scorers: ``scores = X @ weight[task] + bias[task]``."""

    weight: dict[str, np.ndarray]
    bias: dict[str, np.ndarray]


def fit_alayrac(
    data: CrossTaskData, train: Mapping[str, Sequence[str]], options: MethodOptions
) -> AlayracModel:
    """Fit one DIFFRAC model per task of ``train`` (primary tasks; no sharing)."""
    with limit_threads(1):
        return _fit_alayrac(data, train, options)


def _fit_alayrac(
    data: CrossTaskData, train: Mapping[str, Sequence[str]], options: MethodOptions
) -> AlayracModel:
    defaults = AlayracSettings()
    own = {k: v for k, v in options.hyper.items() if k in ("fw_iterations", "ridge")}
    hyper = replace(defaults, **typed_overrides(defaults, own))
    weight: dict[str, np.ndarray] = {}
    bias: dict[str, np.ndarray] = {}
    for index, task_id in enumerate(sorted(train)):
        if options.progress is not None:
            options.progress(index, len(train))  # tasks fitted so far
        k = data.task(task_id).n_steps
        feats, outside = [], []
        for vid in train[task_id]:
            if data.n_frames(vid) < k:
                continue
            feats.append(np.asarray(data.features(vid), dtype=np.float32))
            if options.constraints != "none" and data.has_constraints(task_id, vid):
                outside.append(data.constraints(task_id, vid) == 0)
            else:
                outside.append(None)
        if not feats:
            continue
        solver = DiffracTask(
            features=feats,
            n_steps=k,
            outside=outside,
            constraints=options.constraints,
            penalty=options.penalty,
            ridge=hyper.ridge,
            fw_iterations=hyper.fw_iterations,
            random_state=options.seed,
        ).fit()
        weight[task_id] = solver.weight_.astype(np.float32)
        bias[task_id] = solver.bias_.astype(np.float32)
    return AlayracModel(weight=weight, bias=bias)


def predict_alayrac(
    model: AlayracModel, data: CrossTaskData, videos: Mapping[str, Sequence[str]]
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    """Exactly-one labels and linear scores of ``{task_id: [video_id, ...]}``."""
    with limit_threads(1):
        return _predict_alayrac(model, data, videos)


def _predict_alayrac(
    model: AlayracModel, data: CrossTaskData, videos: Mapping[str, Sequence[str]]
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    labels: dict[str, dict[str, np.ndarray]] = {}
    scores: dict[str, dict[str, np.ndarray]] = {}
    for task_id, vids in videos.items():
        if task_id not in model.weight:
            raise KeyError(f"task {task_id!r} has no Alayrac model (no training video)")
        w, b = model.weight[task_id], model.bias[task_id]
        s = {vid: np.asarray(data.features(vid), dtype=np.float32) @ w + b for vid in vids}
        assigned = ordered_assignment_batch(list(s.values()), exactly_one=True, maximize=True)
        scores[task_id] = s
        labels[task_id] = {vid: a.copy() for vid, a in zip(vids, assigned, strict=True)}
    return labels, scores
