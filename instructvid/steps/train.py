"""Weakly supervised training of the component step model (thesis §3.4.2–3.4.3, app. A.1.3).

The objective (eq. 3.2–3.3, with the authors' constraint penalty) over labels Y and classifiers
θ = (W, b), for the training videos v of tasks τ (T_v seconds, K_τ steps)::

    L(Y, θ) = Σ_v (1/T_v) Σ_{t,k} Y_tk (λ C_tk − log softmax_k(o_t))          o_t = Âᵀ(W x_t + b)

with C_tk = 1 outside step k's narration interval (λ = 1e4), Y an ordered exactly-one
assignment (each step one second, in task order). ``1/T_v`` is the authors' ``mean(dim=0)``.

Optimisation (the authors' ``train.py``):

1. **Initialisation** (``epochs_init`` epochs): per video, Y = exactly-one DP minimising random
   U[0, 1) scores + C (a random assignment that satisfies the constraints), then a θ-step.
2. **Alternation** (``epochs`` epochs): per video, a **Y-update** — exactly-one DP minimising
   the gradient w.r.t. Y of ``F = L − ½ δ ‖∂L/∂θ‖²`` at the current Y (eq. A.14 as the
   authors compute it, δ = the learning rate) — then a **θ-step** (Adam) on L with the new Y.

The A.14 costs have a closed form for this model (derivation in ``docs/steps.md``): with
p_t = softmax(o_t), R̃_t = (n_t p_t − y_t)/T (n_t = Σ_k Y_tk) over the frames holding a label,
S = ÂᵀÂ (K, K), ``H = X_rowsᵀ R̃ S`` (d, K) and ``v = S R̃ᵀ1`` (K,)::

    ∂F/∂Y_tk = c_tk − δ (1/T) (p_t·u_t − u_tk),     u_t = Hᵀ x_t + v,  c_tk = (λC_tk − log p_tk)/T

— one extra (d, K) column block in the product that computes the logits, no second backward
pass. :func:`a14_costs_autograd` computes the same thing by double backward (tests check them
equal).

Two engines:

* ``fast`` (default): videos are batched by task (``batch_videos`` videos of one task per step,
  the last batch of a task may be smaller; batch order shuffled each epoch); the Y-update of a
  batch uses the batch's joint gradient G (the A.13 step of that batch; with one video per
  batch this is the authors' G) and the deterministic model (no dropout, unless
  ``y_dropout=True``); the θ-step only touches the K labelled seconds per video (all other rows
  have zero gradient), with a fresh dropout mask on those rows; one Adam step per batch. The DP
  of a batch is one call of the project's DP core (:mod:`instructvid.align.dp`). On CPU the
  engine is NumPy + compiled (numba) row kernels and does not import torch; on CUDA (or with
  ``backend="torch"``) the same algorithm runs on torch tensors.
* ``reference`` (``batch_videos=1, a14="autograd"``): the authors' loop literally — one video per
  step, ``fc(dropout(x)) @ A`` over all frames, ``autograd.grad(..., create_graph=True)`` double
  backward, a second forward with a fresh dropout mask for the Adam step, ``torch.optim.Adam``.

All engines start from the same weights (``nn.Linear``'s U(±1/√d), drawn from
``random_state``). The supervised topline uses the same θ-steps on the ground truth.

Note (fidelity): the authors' Y-update calls ``dp(y, grad)`` with its default
``exactly_one=True``, like the initialisation and inference; so does this module (the
"at least once" constraint of §3.4.2 is never used by their training code).

Features are read from the memory-mapped ``.npy`` files batch by batch. Up to ``cache_mb``
megabytes of them are kept in memory between epochs (the rest is re-read each epoch), so the
peak memory is bounded by ``cache_mb`` plus one batch, whatever the dataset size.

Determinism and resumption: epoch e draws its batch order, random initial scores and dropout
masks from generators seeded by ``(random_state, e)``. After each epoch the state (θ, the Adam
moments, the labelled second of every step of every training video, the history) is written
atomically to ``checkpoint`` (an ``.npz``); ``fit`` resumes from it, so an interrupted run
finishes with the same result as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from instructvid.align import dp as _dp
from instructvid.align.dp import ordered_assignment, ordered_assignment_batch
from instructvid.io.atomic import atomic_open
from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError, open_features
from instructvid.steps.baselines import uniform_assignment
from instructvid.steps.model import StepModel, log_softmax
from instructvid.text.components import (
    SHARE_LEVELS,
    ComponentVocabulary,
    UnknownComponentsWarning,
)

if TYPE_CHECKING:  # torch is imported only by the engines that use it
    import torch

__all__ = [
    "CONSTRAINT_MODES",
    "DEFAULT_HYPERPARAMETERS",
    "FeatureStore",
    "StepLearner",
    "TrainVideo",
    "a14_costs",
    "a14_costs_autograd",
    "build_training_videos",
    "limit_threads",
    "predict_videos",
    "theta_gradient",
]

#: How narration constraints enter training: λ·C penalty (authors), forbidden cells, or ignored.
CONSTRAINT_MODES: tuple[str, ...] = ("penalty", "hard", "none")

#: Defaults of the fast engine (chosen on the validation videos of the medium synthetic world
#: with ``steps tune``; the authors' values are lr 1e-5, dropout 0.3, one video per step).
DEFAULT_HYPERPARAMETERS: dict[str, float | int] = {
    "lr": 3e-4,
    "dropout": 0.3,
    "epochs_init": 30,
    "epochs": 30,
    "batch_videos": 32,
}


# --------------------------------------------------------------------------------------------
# Training videos and their features


@dataclass(frozen=True)
class TrainVideo:
    """One training video.

    Attributes:
        task_id, video_id: identifiers.
        path: its (T, d) ``.npy`` features, one row per second.
        n_frames: T.
        n_steps: K of its task.
        allowed: (T, K) uint8, 1 inside step k's narration interval; ``None`` = unconstrained.
        target: (T, K) uint8 ground truth, for supervised training only.
    """

    task_id: str
    video_id: str
    path: Path
    n_frames: int
    n_steps: int
    allowed: np.ndarray | None = None
    target: np.ndarray | None = None


def build_training_videos(
    data: CrossTaskData,
    videos: Mapping[str, Sequence[str]],
    *,
    constraints: str = "penalty",
    supervised: bool = False,
) -> list[TrainVideo]:
    """The :class:`TrainVideo` list of ``{task_id: [video_id, ...]}``.

    Constraint files are read unless ``constraints == "none"``; a video without one is
    unconstrained (one warning gives their number). Videos shorter than their task's K seconds
    are skipped with a warning. With ``supervised`` the ground truth is read (videos without an
    annotation are skipped).
    """
    if constraints not in CONSTRAINT_MODES:
        raise ValueError(f"constraints must be one of {CONSTRAINT_MODES}, got {constraints!r}")
    out: list[TrainVideo] = []
    missing_constraints = 0
    too_short: list[str] = []
    for task_id in sorted(videos):
        n_steps = data.task(task_id).n_steps
        for vid in videos[task_id]:
            try:
                n_frames = data.check_length(task_id, vid)
            except CrossTaskFormatError:
                too_short.append(vid)
                continue
            allowed = None
            if constraints != "none":
                if data.has_constraints(task_id, vid):
                    allowed = data.constraints(task_id, vid)
                else:
                    missing_constraints += 1
            target = None
            if supervised:
                if not data.has_annotation(task_id, vid):
                    continue
                target = data.ground_truth(task_id, vid)
            out.append(
                TrainVideo(
                    task_id=task_id,
                    video_id=vid,
                    path=data.paths.feature(vid),
                    n_frames=n_frames,
                    n_steps=n_steps,
                    allowed=allowed,
                    target=target,
                )
            )
    if missing_constraints:
        warnings.warn(
            f"{missing_constraints} training video(s) have no narration-constraint file; "
            "they are trained without constraints",
            stacklevel=2,
        )
    if too_short:
        warnings.warn(
            f"{len(too_short)} video(s) are shorter than their task's number of steps and are "
            f"skipped: {', '.join(too_short[:5])}{' …' if len(too_short) > 5 else ''}",
            stacklevel=2,
        )
    return out


@contextlib.contextmanager
def limit_threads(n_threads: int = 1) -> Iterator[None]:
    """Run torch and the BLAS under numpy with ``n_threads`` threads, restored afterwards.

    The per-batch products here are small: with more threads most time goes to spinning and
    synchronising (and on a shared machine to waiting for a core).
    """
    torch = sys.modules.get("torch")  # only if some engine imported it
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(max(1, int(n_threads)))
    try:
        with threadpool_limits(limits=max(1, int(n_threads))):
            yield
    finally:
        if torch is not None and previous is not None:
            torch.set_num_threads(previous)


class FeatureStore:
    """Per-video features read from memory-mapped files, with a bounded in-memory cache.

    Args:
        paths: one ``.npy`` path per video.
        cache_bytes: at most this many bytes of features are kept between calls (first come,
            first kept); others are re-read from disk each time. 0 disables the cache.

    A file is mapped only while it is read, so mapped pages never accumulate in the resident
    set: peak memory ≈ ``cache_bytes`` + the arrays a caller holds.
    """

    def __init__(self, paths: Sequence[Path], *, cache_bytes: int = 1 << 30) -> None:
        self.paths = list(paths)
        self.cache_bytes = int(cache_bytes)
        self._cache: dict[int, np.ndarray] = {}
        self._used = 0

    def full(self, i: int) -> np.ndarray:
        """(T, d) float32 features of video ``i``."""
        hit = self._cache.get(i)
        if hit is not None:
            return hit
        mapped = open_features(self.paths[i])
        arr = np.array(mapped, dtype=np.float32)
        del mapped
        if self._used + arr.nbytes <= self.cache_bytes:
            self._cache[i] = arr
            self._used += arr.nbytes
        return arr

    def rows(self, i: int, rows: np.ndarray) -> np.ndarray:
        """(len(rows), d) float32 features of some seconds of video ``i``."""
        hit = self._cache.get(i)
        if hit is not None:
            return hit[rows]
        if self.cache_bytes > self._used:
            return self.full(i)[rows]
        mapped = open_features(self.paths[i])
        arr = np.array(mapped[np.asarray(rows)], dtype=np.float32)
        del mapped
        return arr

    def dim(self) -> int:
        """d, from the first file's header."""
        return int(open_features(self.paths[0]).shape[1])


# --------------------------------------------------------------------------------------------
# The maths of one step (pure functions on tensors; shapes in the docstrings)


def theta_gradient(
    x: torch.Tensor,
    y: torch.Tensor,
    inv_t: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    a: torch.Tensor,
    penalty: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Gradient of L w.r.t. (W, b) from the labelled frames only.

    Args:
        x: (N, d) features of the frames holding a label (dropout applied by the caller).
        y: (N, K) their labels (0/1 floats; a row may hold several 1s).
        inv_t: (N,) 1/T of each frame's video.
        weight: (M, d); bias: (M,); a: (M, K) column-normalised Â of the task.
        penalty: (N, K) λ·C of these frames, only for the reported loss.

    Returns:
        (dL/dW (M, d), dL/db (M,), L over these frames as a float).
    """
    import torch

    logits = x @ ((a.T @ weight).T) + bias @ a
    logp = torch.log_softmax(logits, dim=1)
    n = y.sum(dim=1, keepdim=True)
    r = (n * logp.exp() - y) * inv_t[:, None]  # (N, K) = dL/dO
    grad_w = a @ (r.T @ x)
    grad_b = a @ r.sum(dim=0)
    cost = -logp if penalty is None else penalty - logp
    loss = float((y * cost * inv_t[:, None]).sum())
    return grad_w, grad_b, loss


def a14_costs(
    x: torch.Tensor,
    y: torch.Tensor,
    inv_t: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    a: torch.Tensor,
    penalty: torch.Tensor | None,
    lr: float,
) -> torch.Tensor:
    """The Y-update costs ∂F/∂Y of eq. A.14 (authors' form), in closed form.

    ``F = L − ½·lr·‖∂L/∂θ‖²`` differentiated w.r.t. Y at the current labels; the batch's frames
    are concatenated (all from one task).

    Args:
        x: (N, d) features of all frames of the batch's videos (dropout applied if wanted).
        y: (N, K) current labels (0/1 floats).
        inv_t: (N,) 1/T of each frame's video.
        weight: (M, d); bias: (M,); a: (M, K) the task's Â.
        penalty: (N, K) λ·C (0 inside the narration intervals), or ``None`` for none.
        lr: δ, the step size in F.

    Returns:
        (N, K) float tensor of costs, to be minimised by the DP.
    """
    import torch

    rows = torch.nonzero(y.sum(dim=1) > 0).squeeze(1)
    s = a.T @ a  # (K, K)
    v = (a.T @ weight).T  # (d, K)
    beta = bias @ a  # (K,)
    x_rows = x[rows]
    y_rows = y[rows]
    logp_rows = torch.log_softmax(x_rows @ v + beta, dim=1)
    r = (y_rows.sum(dim=1, keepdim=True) * logp_rows.exp() - y_rows) * inv_t[rows, None]
    h = x_rows.T @ (r @ s)  # (d, K)
    bias_u = s @ r.sum(dim=0)  # (K,)
    z = x @ torch.cat([v, h], dim=1)
    k = a.shape[1]
    logp = torch.log_softmax(z[:, :k] + beta, dim=1)
    u = z[:, k:] + bias_u
    p = logp.exp()
    inner = (p * u).sum(dim=1, keepdim=True) - u
    cost = -logp - lr * inner
    if penalty is not None:
        cost = cost + penalty
    return cost * inv_t[:, None]


def a14_costs_autograd(
    x: torch.Tensor,
    y: torch.Tensor,
    inv_t: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    a: torch.Tensor,
    penalty: torch.Tensor,
    lr: float,
) -> torch.Tensor:
    """:func:`a14_costs` by double backward, as the authors compute it (same arguments)."""
    import torch

    w = weight.detach().requires_grad_(True)
    b = bias.detach().requires_grad_(True)
    yy = y.detach().clone().requires_grad_(True)
    logits = (x @ w.T + b) @ a
    loss = (yy * (penalty - torch.log_softmax(logits, dim=1)) * inv_t[:, None]).sum()
    grads = torch.autograd.grad(loss, [w, b], create_graph=True)
    f = loss
    for g in grads:
        f = f - 0.5 * lr * (g**2).sum()
    (dy,) = torch.autograd.grad(f, [yy])
    return dy.detach()


# --------------------------------------------------------------------------------------------
# Compiled kernels of the CPU fast path (row-wise A.14 costs; the DP of a batch)


@njit(cache=True, nogil=True, boundscheck=False)
def _a14_rows_kernel(
    z, beta, bias_u, lr, inv_t, outside, hard_row, penalty, out
):  # pragma: no cover
    """Row-wise part of :func:`a14_costs`, fused, into a float64 buffer.

    z: (N, 2K) float32 = X [V | H]; beta, bias_u: (K,); inv_t: (N,) 1/T of each row's video;
    outside: (N, K) bool (or (0, 0) when unconstrained); hard_row: (N,) bool, forbid the
    outside cells of the row (else add ``penalty`` there); out: (N, K) float64.
    """
    n = z.shape[0]
    k = beta.shape[0]
    masked = outside.shape[0] == n
    for t in range(n):
        m = -np.inf
        for j in range(k):
            o = z[t, j] + beta[j]
            if o > m:
                m = o
        s = 0.0
        for j in range(k):
            s += np.exp(z[t, j] + beta[j] - m)
        lse = m + np.log(s)
        pu = 0.0
        for j in range(k):
            pu += np.exp(z[t, j] + beta[j] - lse) * (z[t, k + j] + bias_u[j])
        w = inv_t[t]
        for j in range(k):
            logp = z[t, j] + beta[j] - lse
            c = -logp - lr * (pu - (z[t, k + j] + bias_u[j]))
            if masked and outside[t, j]:
                if hard_row[t]:
                    out[t, j] = np.inf
                    continue
                c += penalty
            out[t, j] = c * w


@njit(cache=True, nogil=True, boundscheck=False)
def _dp_rows_kernel(flat, offs, lengths, k, rows_out):  # pragma: no cover
    """Exactly-one DP (minimising) of each video of a flat buffer; rows_out[i, s] = second of
    step s of video i. Returns the index of the first infeasible video, or -1."""
    n_videos = lengths.shape[0]
    max_t = 1
    for i in range(n_videos):
        if lengths[i] > max_t:
            max_t = lengths[i]
    ns = 2 * k + 1
    state = np.empty(ns, dtype=np.float64)
    bp_ws = np.empty(max_t * ns, dtype=np.uint8)
    labels = np.empty(max_t, dtype=np.int64)
    for i in range(n_videos):
        t_len = lengths[i]
        o = offs[i]
        c = flat[o : o + t_len * k].reshape((t_len, k))
        bp = bp_ws[: t_len * ns].reshape((t_len, ns))
        if _dp._dp_core(c, 1.0, True, state, bp, labels) != 0:
            return i
        for t in range(t_len):
            lab = labels[t]
            if lab > 0:
                rows_out[i, lab - 1] = t
    return -1


def _batch_dp(costs: np.ndarray, lengths: np.ndarray, k: int) -> np.ndarray:
    """Exactly-one DP minimising stacked (N, K) float64 costs of videos of ``lengths``.

    Returns (n_videos, K) int64: the second of each step. Uses the project's DP core
    (:mod:`instructvid.align.dp`) without repacking the batch.
    """
    flat = np.ascontiguousarray(costs, dtype=np.float64).reshape(-1)
    offs = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1] * k, out=offs[1:])
    rows = np.zeros((len(lengths), k), dtype=np.int64)
    bad = _dp_rows_kernel(flat, offs, lengths.astype(np.int64), k, rows)
    if bad >= 0:
        raise ValueError(f"video {bad} of the batch: no feasible ordered labelling")
    return rows


def _log_softmax_np(o: np.ndarray) -> np.ndarray:
    z = o - o.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# --------------------------------------------------------------------------------------------
# Adam (the fast engine's; the reference engine uses torch.optim.Adam, like the authors)


class _Adam:
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
            **{f"adam_m{i}": _to_numpy(m) for i, m in enumerate(self.m)},
            **{f"adam_v{i}": _to_numpy(v) for i, v in enumerate(self.v)},
        }

    def load(self, state: Mapping[str, np.ndarray]) -> None:
        self.step_count = int(state["adam_step"])
        for i in range(len(self.params)):
            _assign(self.m[i], state[f"adam_m{i}"])
            _assign(self.v[i], state[f"adam_v{i}"])


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x.copy()
    return x.detach().cpu().numpy().copy()


def _assign(target: Any, value: np.ndarray) -> None:
    """In-place copy of a NumPy array into a NumPy array or a torch tensor."""
    if isinstance(target, np.ndarray):
        target[...] = value
    else:
        import torch

        with torch.no_grad():
            target.copy_(torch.from_numpy(np.asarray(value)).to(target.device))


# --------------------------------------------------------------------------------------------
# The learner


@dataclass
class _Batch:
    task_id: str
    items: list[int]


class StepLearner:
    """Weakly supervised (or supervised) learner of step classifiers: fit / predict.

    Args:
        share: sharing level (``component``, ``component-task``, ``step``, ``task``).
        stem: stem the words of step texts (Snowball English); ``False`` = the authors' split.
        dropout: input dropout probability (authors: 0.3, i.e. keep-prob q = 0.7).
        lr: Adam learning rate, also δ of eq. A.14.
        epochs_init: initialisation epochs (random constraint-satisfying labels).
        epochs: alternation epochs (Y-update by the DP, θ-step by Adam).
        batch_videos: videos per Adam step (``fast`` engine; one task per batch).
        constraints: ``"penalty"`` (λ·C added to the loss, authors), ``"hard"`` (cells outside
            the narration intervals are forbidden), ``"none"``.
        penalty: λ.
        a14: ``"closed"`` (closed-form Y-update costs) or ``"autograd"`` (double backward).
            ``batch_videos=1, a14="autograd"`` selects the ``reference`` engine (the authors'
            loop; see the module docstring).
        y_dropout: apply dropout in the Y-update's forward pass (the authors do; ``fast``
            engine default: off, the Y-update uses the deterministic model).
        supervised: train on the videos' ground truth (``TrainVideo.target``) instead:
            ``epochs_init + epochs`` θ-epochs on every annotated second, no Y-update (the
            supervised topline).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        random_state: seed of initial weights, batch order, random labels and dropout masks.
        cache_mb: features kept in memory between epochs (megabytes).
        n_threads: torch/BLAS threads during ``fit`` (1 by default: the per-batch products
            are small, and extra threads mostly spin; restored afterwards).
        backend: ``fast`` engine implementation: ``"auto"`` (NumPy and compiled kernels on
            CPU — torch is not even imported —, torch on CUDA), ``"numpy"`` or ``"torch"``.
            Same algorithm; the dropout masks come from different generators.
        checkpoint: file written atomically after every epoch and resumed from by ``fit``.
        progress: called as ``progress(epochs_done, epochs_total)``.

    Attributes (after ``fit``):
        model_: the :class:`~instructvid.steps.model.StepModel`.
        labels_: ``{(task_id, video_id): (K,) seconds}``, the final training labels.
        history_: one dict per epoch: ``epoch``, ``phase`` (init/alternate/supervised),
            ``loss`` (summed per-video losses at the θ-steps, penalty included), ``outside``
            (fraction of labels outside the narration intervals), ``changed`` (fraction of
            labels moved by the Y-update), ``seconds``.
        engine_: ``"fast"`` or ``"reference"``.
        resumed_from_: epochs loaded from the checkpoint (0 when starting afresh).
    """

    def __init__(
        self,
        *,
        share: str = "component",
        stem: bool = True,
        dropout: float = float(DEFAULT_HYPERPARAMETERS["dropout"]),
        lr: float = float(DEFAULT_HYPERPARAMETERS["lr"]),
        epochs_init: int = int(DEFAULT_HYPERPARAMETERS["epochs_init"]),
        epochs: int = int(DEFAULT_HYPERPARAMETERS["epochs"]),
        batch_videos: int = int(DEFAULT_HYPERPARAMETERS["batch_videos"]),
        constraints: str = "penalty",
        penalty: float = 1e4,
        a14: str = "closed",
        y_dropout: bool = False,
        supervised: bool = False,
        device: str = "cpu",
        random_state: int = 0,
        cache_mb: float = 1024,
        n_threads: int = 1,
        backend: str = "auto",
        checkpoint: str | Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.share = share
        self.stem = stem
        self.dropout = dropout
        self.lr = lr
        self.epochs_init = epochs_init
        self.epochs = epochs
        self.batch_videos = batch_videos
        self.constraints = constraints
        self.penalty = penalty
        self.a14 = a14
        self.y_dropout = y_dropout
        self.supervised = supervised
        self.device = device
        self.random_state = random_state
        self.cache_mb = cache_mb
        self.n_threads = n_threads
        self.backend = backend
        self.checkpoint = checkpoint
        self.progress = progress

    # ---------------------------------------------------------------------------------------
    # Public API

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters that determine the result (JSON-serialisable)."""
        return {
            "share": self.share,
            "stem": self.stem,
            "dropout": self.dropout,
            "lr": self.lr,
            "epochs_init": self.epochs_init,
            "epochs": self.epochs,
            "batch_videos": self.batch_videos,
            "constraints": self.constraints,
            "penalty": self.penalty,
            "a14": self.a14,
            "y_dropout": self.y_dropout,
            "supervised": self.supervised,
            "random_state": self.random_state,
            "engine": "reference" if self._engine() == "reference" else "fast",
        }

    def fit(self, videos: Sequence[TrainVideo], tasks: Mapping[str, Sequence[str]]) -> StepLearner:
        """Train on ``videos``; ``tasks`` maps each of their task ids to its step texts.

        Returns:
            self, with ``model_``, ``labels_`` and ``history_`` set.

        Raises:
            ValueError: bad hyper-parameters, no video, a video of a task missing from
                ``tasks``, or a checkpoint written with other settings.
        """
        self._check_params()
        if self._engine(_resolve_device(self.device)) != "fast":
            import torch  # noqa: F401  (imported first so that limit_threads applies to it)
        with limit_threads(self.n_threads):
            return self._fit(videos, tasks)

    def predict(self, features: np.ndarray, task_id: str) -> np.ndarray:
        """(T, K) uint8 exactly-one assignment of a training task's steps in (T, d) features."""
        return self.model_.localize(features, task_id=task_id).labels

    def predict_log_proba(self, features: np.ndarray, task_id: str) -> np.ndarray:
        """(T, K) log-probabilities of the steps of a training task (no dropout)."""
        return self.model_.log_probs(features, self.model_.encode(task_id=task_id))

    # ---------------------------------------------------------------------------------------
    # Training loop

    def _engine(self, device: str | None = None) -> str:
        """``reference``, ``fast`` (NumPy) or ``fast-torch``, for a resolved device."""
        if self.batch_videos == 1 and self.a14 == "autograd" and not self.supervised:
            return "reference"
        if self.backend == "torch" or (self.backend == "auto" and device == "cuda"):
            return "fast-torch"
        return "fast"

    def _fit(self, videos: Sequence[TrainVideo], tasks: Mapping[str, Sequence[str]]) -> StepLearner:
        if not videos:
            raise ValueError("no training video")
        missing = sorted({v.task_id for v in videos} - set(tasks))
        if missing:
            raise ValueError(f"training videos of tasks without a step list: {missing}")
        if self.supervised and any(v.target is None for v in videos):
            raise ValueError("supervised training needs the ground truth of every video")
        if len({v.n_steps for v in videos if v.task_id == videos[0].task_id}) > 1:
            raise ValueError("videos of one task disagree on its number of steps")
        used = {t: tuple(tasks[t]) for t in sorted({v.task_id for v in videos})}
        vocabulary = ComponentVocabulary.build(used, share=self.share, stem=self.stem)
        device = _resolve_device(self.device)
        engine = self._engine(device)
        self.engine_ = "reference" if engine == "reference" else "fast"
        store = FeatureStore([v.path for v in videos], cache_bytes=int(self.cache_mb * 2**20))
        dim = store.dim()
        # nn.Linear's default initialisation, U(±1/√d) for weight and bias, drawn by NumPy so
        # that every engine starts from the same point.
        init_rng = np.random.default_rng([int(self.random_state), 0x11])
        bound = 1.0 / np.sqrt(dim)
        m = vocabulary.n_components
        weight = init_rng.uniform(-bound, bound, (m, dim)).astype(np.float32)
        bias = init_rng.uniform(-bound, bound, m).astype(np.float32)
        a_np = {t: vocabulary.normalised(t) for t in vocabulary.task_steps}
        ctx = _Context(
            videos=list(videos),
            store=store,
            a_np=a_np,
            feasible=self._hard_feasibility(videos),
            outside=[
                None if v.allowed is None or self.constraints == "none" else v.allowed == 0
                for v in videos
            ],
        )
        if engine == "fast":
            ctx.weight, ctx.bias = weight, bias
            ctx.adam = _Adam([ctx.weight, ctx.bias], self.lr)
        else:
            ctx.setup_torch(engine, weight, bias, self.dropout, self.lr, device)
        rows = [np.zeros(v.n_steps, dtype=np.int64) for v in videos]
        history: list[dict[str, Any]] = []
        fingerprint = self._fingerprint(videos, dim)
        start = 0
        self.resumed_from_ = 0
        if self.checkpoint is not None and Path(self.checkpoint).is_file():
            start, history = self._load_checkpoint(Path(self.checkpoint), fingerprint, ctx, rows)
            self.resumed_from_ = start
        total = self.epochs_init + self.epochs
        if self.progress is not None:
            self.progress(start, total)
        for epoch in range(start, total):
            started = time.perf_counter()
            if self.supervised:
                record = self._epoch_supervised(ctx, epoch)
            elif engine == "reference":
                record = self._epoch_reference(ctx, epoch, rows)
            elif engine == "fast-torch":
                record = self._epoch_fast_torch(ctx, epoch, rows)
            else:
                record = self._epoch_fast(ctx, epoch, rows)
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            if self.checkpoint is not None:
                self._save_checkpoint(Path(self.checkpoint), fingerprint, ctx, rows, history)
            if self.progress is not None:
                self.progress(epoch + 1, total)
        self.history_ = history
        self.labels_ = {
            (v.task_id, v.video_id): r.copy() for v, r in zip(videos, rows, strict=True)
        }
        w, b = ctx.numpy_parameters()
        self.model_ = StepModel(vocabulary=vocabulary, weight=w, bias=b)
        return self

    def _epoch_rng(self, epoch: int) -> tuple[np.random.Generator, int]:
        seq = np.random.SeedSequence([int(self.random_state), int(epoch), 0x5EED])
        torch_seed = int(seq.generate_state(1, dtype=np.uint64)[0] % (2**63 - 1))
        return np.random.default_rng(seq), torch_seed

    def _batches(self, videos: Sequence[TrainVideo], rng: np.random.Generator) -> list[_Batch]:
        """Batches of ≤ ``batch_videos`` videos of one task; order shuffled every epoch."""
        by_task: dict[str, list[int]] = {}
        for i, v in enumerate(videos):
            by_task.setdefault(v.task_id, []).append(i)
        batches: list[_Batch] = []
        size = max(1, int(self.batch_videos))
        for task_id in sorted(by_task):
            items = [by_task[task_id][j] for j in rng.permutation(len(by_task[task_id]))]
            for lo in range(0, len(items), size):
                batches.append(_Batch(task_id, items[lo : lo + size]))
        return [batches[j] for j in rng.permutation(len(batches))]

    # The fast engine, NumPy ------------------------------------------------------------------

    def _epoch_fast(self, ctx: _Context, epoch: int, rows: list[np.ndarray]) -> dict[str, Any]:
        """One epoch of the fast engine on CPU (NumPy products, compiled row kernels)."""
        rng, _ = self._epoch_rng(epoch)
        init = epoch < self.epochs_init
        stats = _EpochStats()
        weight, bias = ctx.weight, ctx.bias
        keep_p = np.float32(1.0 - self.dropout)
        for batch in self._batches(ctx.videos, rng):
            items = batch.items
            k = ctx.videos[items[0]].n_steps
            lengths = np.array([ctx.videos[i].n_frames for i in items], dtype=np.int64)
            a = ctx.a_np[batch.task_id]
            outside, hard_row = ctx.batch_masks(items, k, self.constraints == "hard")
            feats = None
            if init:
                costs = self._init_costs(rng, int(lengths.sum()), k, outside, hard_row)
            else:
                feats = [ctx.store.full(i) for i in items]
                if self.y_dropout and self.dropout > 0:
                    feats = [
                        f * (rng.random(f.shape, dtype=np.float32) < keep_p) / keep_p for f in feats
                    ]
                costs = self._y_costs_np(ctx, a, feats, items, lengths, rows, outside, hard_row)
            new_rows = _batch_dp(costs, lengths, k)
            for j, i in enumerate(items):
                stats.record(ctx, i, new_rows[j], None if init else rows[i], self.penalty)
                rows[i] = new_rows[j]
            # θ-step on the labelled seconds only (the other rows have zero gradient), with a
            # fresh dropout mask on those rows.
            if feats is not None and not self.y_dropout:
                x = np.concatenate([f[rows[i]] for f, i in zip(feats, items, strict=True)])
            else:
                x = np.concatenate([ctx.store.rows(i, rows[i]) for i in items])
            if self.dropout > 0:
                x = x * (rng.random(x.shape, dtype=np.float32) < keep_p) / keep_p
            y = np.tile(ctx.eye(k), (len(items), 1))
            inv_t = np.repeat(1.0 / lengths, k).astype(np.float32)
            gw, gb, loss = _theta_gradient_np(x, y, inv_t, weight, bias, a)
            ctx.adam.step([gw, gb])
            stats.loss += loss
        return stats.as_record(epoch, "init" if init else "alternate")

    def _init_costs(
        self,
        rng: np.random.Generator,
        n: int,
        k: int,
        outside: np.ndarray | None,
        hard_row: np.ndarray,
    ) -> np.ndarray:
        """Random U[0, 1) scores + C (minimised): the authors' random constrained labels."""
        costs = rng.random((n, k))
        if outside is not None:
            costs[outside] += 1.0
            if hard_row.any():
                costs[outside & hard_row[:, None]] = np.inf
        return costs

    def _y_costs_np(
        self,
        ctx: _Context,
        a: np.ndarray,
        feats: Sequence[np.ndarray],
        items: Sequence[int],
        lengths: np.ndarray,
        rows: Sequence[np.ndarray],
        outside: np.ndarray | None,
        hard_row: np.ndarray,
    ) -> np.ndarray:
        """Eq. A.14 costs of a batch, (N, K) float64 (+inf = forbidden); see :func:`a14_costs`."""
        k = a.shape[1]
        weight, bias = ctx.weight, ctx.bias
        vt = a.T @ weight  # (K, d): step classifiers
        beta = bias @ a
        x_rows = np.concatenate([f[rows[i]] for f, i in zip(feats, items, strict=True)])
        inv_rows = np.repeat(1.0 / lengths, k).astype(np.float32)
        p_rows = np.exp(_log_softmax_np(x_rows @ vt.T + beta))
        r = (p_rows - np.tile(ctx.eye(k), (len(items), 1))) * inv_rows[:, None]
        s_mat = ctx.s_np[id(a)]
        w2 = np.ascontiguousarray(np.concatenate([vt.T, x_rows.T @ (r @ s_mat)], axis=1))
        bias_u = (s_mat @ r.sum(axis=0)).astype(np.float32)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        z = np.empty((int(offsets[-1]), 2 * k), dtype=np.float32)
        for j, f in enumerate(feats):
            np.matmul(f, w2, out=z[offsets[j] : offsets[j + 1]])
        costs = np.empty((int(offsets[-1]), k), dtype=np.float64)
        _a14_rows_kernel(
            z,
            beta.astype(np.float32),
            bias_u,
            float(self.lr),
            np.repeat(1.0 / lengths, lengths).astype(np.float32),
            outside if outside is not None else _NO_MASK,
            hard_row,
            float(self.penalty),
            costs,
        )
        return costs

    # The fast engine, torch --------------------------------------------------------------------

    def _epoch_fast_torch(
        self, ctx: _Context, epoch: int, rows: list[np.ndarray]
    ) -> dict[str, Any]:
        """The fast engine with torch tensors (any device; same algorithm as NumPy)."""
        import torch

        rng, torch_seed = self._epoch_rng(epoch)
        dev = ctx.device
        gen = torch.Generator(device=dev).manual_seed(torch_seed)
        init = epoch < self.epochs_init
        stats = _EpochStats()
        weight, bias = ctx.weight, ctx.bias
        for batch in self._batches(ctx.videos, rng):
            items = batch.items
            k = ctx.videos[items[0]].n_steps
            lengths = np.array([ctx.videos[i].n_frames for i in items], dtype=np.int64)
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            n = int(offsets[-1])
            a = ctx.a_torch[batch.task_id]
            outside, hard_row = ctx.batch_masks(items, k, self.constraints == "hard")
            x_full = None
            if init:
                costs = self._init_costs(rng, n, k, outside, hard_row)
            else:
                x_full = torch.from_numpy(np.concatenate([ctx.store.full(i) for i in items])).to(
                    dev
                )
                flat = np.concatenate([rows[i] + offsets[j] for j, i in enumerate(items)])
                y = torch.zeros((n, k), device=dev)
                y[
                    torch.from_numpy(flat).to(dev), torch.arange(k, device=dev).repeat(len(items))
                ] = 1.0
                inv_t = torch.from_numpy(np.repeat(1.0 / lengths, lengths).astype(np.float32)).to(
                    dev
                )
                pen = None
                if outside is not None:
                    pen = torch.from_numpy(
                        outside.astype(np.float32) * np.float32(self.penalty)
                    ).to(dev)
                x = x_full
                if self.y_dropout and self.dropout > 0:
                    keep = torch.rand(x.shape, generator=gen, device=dev) >= self.dropout
                    x = x * keep / (1.0 - self.dropout)
                if self.a14 == "autograd":
                    c = a14_costs_autograd(
                        x,
                        y,
                        inv_t,
                        weight,
                        bias,
                        a,
                        pen if pen is not None else torch.zeros_like(y),
                        self.lr,
                    )
                else:
                    with torch.no_grad():
                        c = a14_costs(x, y, inv_t, weight, bias, a, pen, self.lr)
                costs = c.to(torch.float64).cpu().numpy()
                if outside is not None and hard_row.any():
                    costs[outside & hard_row[:, None]] = np.inf
            new_rows = _batch_dp(costs, lengths, k)
            for j, i in enumerate(items):
                stats.record(ctx, i, new_rows[j], None if init else rows[i], self.penalty)
                rows[i] = new_rows[j]
            if x_full is not None:
                flat = np.concatenate([rows[i] + offsets[j] for j, i in enumerate(items)])
                x_rows = x_full[torch.from_numpy(flat).to(dev)]
            else:
                x_rows = torch.from_numpy(
                    np.concatenate([ctx.store.rows(i, rows[i]) for i in items])
                ).to(dev)
            if self.dropout > 0:
                keep = torch.rand(x_rows.shape, generator=gen, device=dev) >= self.dropout
                x_rows = x_rows * keep / (1.0 - self.dropout)
            y_rows = torch.eye(k, device=dev).repeat(len(items), 1)
            inv_rows = torch.from_numpy(np.repeat(1.0 / lengths, k).astype(np.float32)).to(dev)
            with torch.no_grad():
                gw, gb, loss = theta_gradient(x_rows, y_rows, inv_rows, weight, bias, a)
                ctx.adam.step([gw, gb])
            stats.loss += loss
        return stats.as_record(epoch, "init" if init else "alternate")

    # The reference engine ----------------------------------------------------------------------

    def _epoch_reference(self, ctx: _Context, epoch: int, rows: list[np.ndarray]) -> dict[str, Any]:
        """The authors' ``train_epoch``: one video per step, autograd double backward."""
        import torch

        rng, torch_seed = self._epoch_rng(epoch)
        torch.manual_seed(torch_seed)  # nn.Dropout draws from the global generator
        init = epoch < self.epochs_init
        net, dev = ctx.net, ctx.device
        stats = _EpochStats()
        lam = self.penalty if self.constraints == "penalty" else 0.0
        for j in rng.permutation(len(ctx.videos)):
            i = int(j)
            v = ctx.videos[i]
            x = torch.from_numpy(ctx.store.full(i)).to(dev)
            a = ctx.a_torch[v.task_id]
            outside = ctx.outside[i]
            hard = self.constraints == "hard" and outside is not None and ctx.feasible[i]
            c_np = (
                outside.astype(np.float32)
                if outside is not None
                else np.zeros((v.n_frames, v.n_steps), np.float32)
            )
            c = torch.from_numpy(c_np).to(dev)
            if init:
                # the authors: dp(y, rand + C); hard constraints forbid instead
                o = rng.random((v.n_frames, v.n_steps)) + c_np
                if hard:
                    o[outside] = np.inf
                y_np = ordered_assignment(o, exactly_one=True, maximize=False)
            else:
                y = torch.zeros((v.n_frames, v.n_steps), device=dev)
                y[torch.from_numpy(rows[i]).to(dev), torch.arange(v.n_steps, device=dev)] = 1
                y.requires_grad_(True)
                out = net(x, a)
                loss = (y * (lam * c - torch.log_softmax(out, dim=1))).mean(dim=0).sum()
                grads = torch.autograd.grad(
                    loss, list(net.parameters()), create_graph=True, only_inputs=True
                )
                f = loss
                for g in grads:
                    f = f - 0.5 * self.lr * (g**2).sum()
                (y_grad,) = torch.autograd.grad(f, [y], only_inputs=True)
                cost = y_grad.detach().to(torch.float64).cpu().numpy()
                if hard:
                    cost[outside] = np.inf
                # the authors' dp(y, grad): exactly one second per step, minimised
                y_np = ordered_assignment(cost, exactly_one=True, maximize=False)
            r = y_np.argmax(axis=0)
            stats.record(ctx, i, r, None if init else rows[i], self.penalty)
            rows[i] = r
            y_new = torch.from_numpy(y_np.astype(np.float32)).to(dev)
            out = net(x, a)
            loss = (y_new * (lam * c - torch.log_softmax(out, dim=1))).mean(dim=0).sum()
            loss.backward()
            stats.loss += float(loss.detach()) - lam * float((y_new * c).sum()) / v.n_frames
            ctx.optimizer.step()
            net.zero_grad()
        return stats.as_record(epoch, "init" if init else "alternate")

    # Supervised topline ------------------------------------------------------------------------

    def _epoch_supervised(self, ctx: _Context, epoch: int) -> dict[str, Any]:
        """θ-steps on the ground truth (every annotated second), batched like ``fast``."""
        rng, _ = self._epoch_rng(epoch)
        keep_p = np.float32(1.0 - self.dropout)
        loss_sum = 0.0
        for batch in self._batches(ctx.videos, rng):
            vids = [ctx.videos[i] for i in batch.items]
            labelled = [np.flatnonzero(v.target.any(axis=1)) for v in vids]  # type: ignore[union-attr]
            if sum(len(r) for r in labelled) == 0:
                continue
            x = np.concatenate(
                [ctx.store.rows(i, r) for i, r in zip(batch.items, labelled, strict=True)]
            )
            y = np.concatenate([v.target[r] for v, r in zip(vids, labelled, strict=True)]).astype(
                np.float32
            )  # type: ignore[index]
            inv_t = np.concatenate(
                [
                    np.full(len(r), 1.0 / v.n_frames, np.float32)
                    for v, r in zip(vids, labelled, strict=True)
                ]
            )
            if self.dropout > 0:
                x = x * (rng.random(x.shape, dtype=np.float32) < keep_p) / keep_p
            loss_sum += ctx.theta_step(x, y, inv_t, batch.task_id)
        return {
            "epoch": epoch + 1,
            "phase": "supervised",
            "loss": loss_sum,
            "outside": None,
            "changed": None,
        }

    # Checks, constraints feasibility, checkpoints ------------------------------------------

    def _check_params(self) -> None:
        if self.share not in SHARE_LEVELS:
            raise ValueError(f"share must be one of {SHARE_LEVELS}, got {self.share!r}")
        if self.constraints not in CONSTRAINT_MODES:
            raise ValueError(
                f"constraints must be one of {CONSTRAINT_MODES}, got {self.constraints!r}"
            )
        if self.a14 not in ("closed", "autograd"):
            raise ValueError(f"a14 must be 'closed' or 'autograd', got {self.a14!r}")
        if self.backend not in ("auto", "numpy", "torch"):
            raise ValueError(f"backend must be auto, numpy or torch, got {self.backend!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.epochs_init < 0 or self.epochs < 0:
            raise ValueError("epochs_init and epochs must be >= 0")
        if int(self.batch_videos) < 1:
            raise ValueError(f"batch_videos must be >= 1, got {self.batch_videos}")
        if self.penalty < 0:
            raise ValueError(f"penalty must be >= 0, got {self.penalty}")
        if self.backend == "numpy" and self.device == "cuda":
            raise ValueError("the numpy backend runs on the CPU; use backend='torch' for cuda")

    def _hard_feasibility(self, videos: Sequence[TrainVideo]) -> list[bool]:
        """Whether each video admits an ordered exactly-one labelling inside its intervals.

        Only checked with hard constraints; infeasible videos fall back to the penalty (one
        warning gives their number).
        """
        if self.constraints != "hard" or self.supervised:
            return [True] * len(videos)
        out = []
        for v in videos:
            if v.allowed is None:
                out.append(True)
                continue
            cost = np.where(v.allowed > 0, 0.0, np.inf)
            try:
                ordered_assignment(cost, exactly_one=True, maximize=False)
                out.append(True)
            except ValueError:
                out.append(False)
        bad = out.count(False)
        if bad:
            warnings.warn(
                f"{bad} video(s) have narration intervals that no ordered labelling satisfies; "
                "the λ penalty is used for them instead of hard constraints",
                stacklevel=3,
            )
        return out

    def _fingerprint(self, videos: Sequence[TrainVideo], dim: int) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self.get_params(), sort_keys=True).encode())
        h.update(str(dim).encode())
        for v in videos:
            h.update(f"{v.task_id}/{v.video_id}/{v.n_frames}/{v.n_steps};".encode())
            if v.allowed is not None:
                h.update(np.ascontiguousarray(v.allowed).tobytes())
        return h.hexdigest()

    def _save_checkpoint(
        self,
        path: Path,
        fingerprint: str,
        ctx: _Context,
        rows: Sequence[np.ndarray],
        history: Sequence[Mapping[str, Any]],
    ) -> None:
        weight, bias = ctx.numpy_parameters()
        arrays = {
            "fingerprint": np.array(fingerprint),
            "epoch": np.array(len(history)),
            "weight": weight,
            "bias": bias,
            "rows": np.concatenate(rows) if rows else np.zeros(0, np.int64),
            "history": np.array(json.dumps(list(history))),
            **ctx.optimizer_state(),
        }
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        with atomic_open(path, "wb") as handle:
            handle.write(buffer.getvalue())

    def _load_checkpoint(
        self, path: Path, fingerprint: str, ctx: _Context, rows: list[np.ndarray]
    ) -> tuple[int, list[dict[str, Any]]]:
        try:
            with np.load(path, allow_pickle=False) as payload:
                state = {key: payload[key] for key in payload.files}
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"{path} is not a readable checkpoint ({exc})") from None
        if str(state.get("fingerprint")) != fingerprint:
            raise ValueError(
                f"{path} was written by a run with other settings or other training videos; "
                "use another output folder (or delete the checkpoint to start afresh)"
            )
        ctx.load_parameters(state["weight"], state["bias"])
        ctx.load_optimizer_state(state)
        sizes = [len(r) for r in rows]
        rows[:] = [r.copy() for r in np.split(state["rows"], np.cumsum(sizes)[:-1])]
        return int(state["epoch"]), json.loads(str(state["history"]))


_NO_MASK = np.zeros((0, 0), dtype=bool)
_NO_ROWS = np.zeros(0, dtype=bool)


@dataclass
class _Context:
    """Everything an epoch needs besides the learner's hyper-parameters: the videos, their
    features and masks, the parameters and the optimiser (NumPy or torch)."""

    videos: list[TrainVideo]
    store: FeatureStore
    a_np: dict[str, np.ndarray]
    feasible: list[bool]
    outside: list[np.ndarray | None]
    weight: Any = None
    bias: Any = None
    adam: _Adam | None = None
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
            self.adam = _Adam([self.weight, self.bias], lr)

    def eye(self, k: int) -> np.ndarray:
        if k not in self._eye:
            self._eye[k] = np.eye(k, dtype=np.float32)
        return self._eye[k]

    def numpy_parameters(self) -> tuple[np.ndarray, np.ndarray]:
        return _to_numpy(self.weight), _to_numpy(self.bias)

    def load_parameters(self, weight: np.ndarray, bias: np.ndarray) -> None:
        _assign(self.weight, weight)
        _assign(self.bias, bias)

    def optimizer_state(self) -> dict[str, np.ndarray]:
        if self.adam is not None:
            return self.adam.state()
        state = self.optimizer.state_dict()["state"]
        if not state:
            return {"adam_step": np.array(0)}
        return {
            "adam_step": np.array(int(float(state[0]["step"]))),
            **{f"adam_m{i}": _to_numpy(state[i]["exp_avg"]) for i in (0, 1)},
            **{f"adam_v{i}": _to_numpy(state[i]["exp_avg_sq"]) for i in (0, 1)},
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
        """One Adam step on the labelled rows ``x`` (N, d), ``y`` (N, K); returns the loss."""
        if self.adam is not None and isinstance(self.weight, np.ndarray):
            gw, gb, loss = _theta_gradient_np(
                x, y, inv_t, self.weight, self.bias, self.a_np[task_id]
            )
            self.adam.step([gw, gb])
            return loss
        import torch

        dev = self.device
        with torch.no_grad():
            gw, gb, loss = theta_gradient(
                torch.from_numpy(x).to(dev),
                torch.from_numpy(y).to(dev),
                torch.from_numpy(inv_t).to(dev),
                self.weight.detach(),
                self.bias.detach(),
                self.a_torch[task_id],
            )
        if self.adam is not None:
            self.adam.step([gw, gb])
        else:
            self.weight.grad, self.bias.grad = gw, gb
            self.optimizer.step()
            self.optimizer.zero_grad()
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
class _EpochStats:
    """Per-epoch bookkeeping: loss, labels outside the intervals, labels moved."""

    loss: float = 0.0
    outside: int = 0
    changed: int = 0
    labels: int = 0
    alternating: bool = False

    def record(
        self, ctx: _Context, i: int, new: np.ndarray, old: np.ndarray | None, penalty: float
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


def _theta_gradient_np(
    x: np.ndarray,
    y: np.ndarray,
    inv_t: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    a: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """NumPy :func:`theta_gradient` (same arguments as arrays)."""
    logp = _log_softmax_np(x @ (a.T @ weight).T + bias @ a)
    r = (y.sum(axis=1, keepdims=True) * np.exp(logp) - y) * inv_t[:, None]
    loss = float(-(logp * y).sum(axis=1) @ inv_t)
    return a @ (r.T @ x), a @ r.sum(axis=0), loss


def _resolve_device(name: str) -> str:
    """``"cpu"`` or ``"cuda"`` for ``--device auto|cpu|cuda`` (torch is imported only when a
    GPU may be present)."""
    if name == "cpu":
        return "cpu"
    if name not in ("auto", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {name!r}")
    if name == "auto" and not (
        os.path.exists("/proc/driver/nvidia/version") or os.environ.get("CUDA_VISIBLE_DEVICES")
    ):
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if name == "cuda":
        raise ValueError("--device cuda asked but CUDA is not available (use cpu or auto)")
    return "cpu"


# --------------------------------------------------------------------------------------------
# Prediction on many videos


def predict_videos(
    model: StepModel,
    data: CrossTaskData,
    videos: Mapping[str, Sequence[str]],
    *,
    steps: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    """Exactly-one step labels and log-probabilities for ``{task_id: [video_id, ...]}``.

    Tasks the model was not trained on are encoded from ``steps[task_id]`` or the dataset's
    task card (novel-task transfer: unknown words are left out of the scores). A task none of
    whose words is known gets the uniform placement (and a warning).

    Returns:
        ``(labels, scores)``: ``labels[task][vid]`` (T, K) uint8 with one 1 per column,
        ``scores[task][vid]`` (T, K) float32 log-softmax.
    """
    with limit_threads(1):
        return _predict_videos(model, data, videos, steps=steps, progress=progress)


def _predict_videos(
    model: StepModel,
    data: CrossTaskData,
    videos: Mapping[str, Sequence[str]],
    *,
    steps: Mapping[str, Sequence[str]] | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    labels: dict[str, dict[str, np.ndarray]] = {}
    scores: dict[str, dict[str, np.ndarray]] = {}
    total = sum(len(v) for v in videos.values())
    done = 0
    for task_id, vids in videos.items():
        if steps is not None and task_id in steps:
            task_steps = list(steps[task_id])
        else:
            task_steps = list(data.task(task_id).steps)
        encoded = model.vocabulary.encode(task_steps, task_id=task_id)
        labels[task_id] = {}
        scores[task_id] = {}
        if encoded.n_unscorable == len(task_steps):
            # The model knows none of the task's words: every second scores the same for every
            # step; the DP's choice among these ties is taken to be the uniform placement.
            warnings.warn(
                f"task {task_id}: no step has a known component; its videos get the uniform "
                "placement",
                UnknownComponentsWarning,
                stacklevel=3,
            )
            for vid in vids:
                n_frames = data.n_frames(vid)
                labels[task_id][vid] = uniform_assignment(n_frames, len(task_steps))
                scores[task_id][vid] = np.zeros((n_frames, len(task_steps)), np.float32)
                done += 1
                if progress is not None:
                    progress(done, total)
            continue
        v, c = model.step_weights(encoded)
        empty = encoded.matrix.sum(axis=1) == 0
        for vid in vids:
            mapped = data.features(vid)
            x = np.asarray(mapped, dtype=np.float32)
            del mapped
            o = x @ v + c
            if empty.any():
                o[:, empty] = o[:, ~empty].mean(axis=1, keepdims=True)
            lp = log_softmax(o)
            scores[task_id][vid] = lp
            done += 1
            if progress is not None:
                progress(done, total)
        assigned = ordered_assignment_batch(
            [scores[task_id][vid] for vid in vids], exactly_one=True, maximize=True
        )
        labels[task_id] = {vid: a.copy() for vid, a in zip(vids, assigned, strict=True)}
    return labels, scores
