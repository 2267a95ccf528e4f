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

The Y-update costs have a closed form for this model (:mod:`instructvid.steps.training.gradients`): one
extra (d, K) column block in the product that computes the logits, no second backward pass.

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

Code: this module holds :class:`StepLearner` (settings, checks, the epoch loop); one epoch of
each engine is in :mod:`~instructvid.steps.training.epochs`, the gradients in
:mod:`~instructvid.steps.training.gradients`, the batched DP in :mod:`instructvid.align.dp`
(:func:`~instructvid.align.dp.ordered_steps_stacked`), the NumPy Adam in
:mod:`~instructvid.steps.training.adam`, the run's shared state in
:mod:`~instructvid.steps.training.state`, the checkpoint in
:mod:`~instructvid.steps.training.checkpoint`, the training videos and features in
:mod:`~instructvid.steps.training.data`, the hyper-parameters' defaults in
:mod:`~instructvid.steps.training.settings`, devices and threads in :mod:`~instructvid.runtime`;
labelling videos with a trained model is :mod:`~instructvid.steps.training.predict`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.align.dp import ordered_assignment
from instructvid.runtime import limit_threads, resolve_device
from instructvid.steps.model import StepModel
from instructvid.steps.training.adam import Adam
from instructvid.steps.training.checkpoint import (
    load_checkpoint,
    save_checkpoint,
    training_fingerprint,
)
from instructvid.steps.training.data import CONSTRAINT_MODES, FeatureStore, TrainVideo
from instructvid.steps.training.epochs import (
    EpochSettings,
    epoch_fast,
    epoch_fast_torch,
    epoch_reference,
    epoch_supervised,
)
from instructvid.steps.training.settings import StepHyperParameters
from instructvid.steps.training.state import TrainingState
from instructvid.text.components import SHARE_LEVELS, ComponentVocabulary
from instructvid.types import ProgressCallback

__all__ = ["StepLearner"]

#: Defaults of the fast engine (:class:`StepHyperParameters`).
_DEFAULTS = StepHyperParameters()


class StepLearner:
    """Weakly supervised (or supervised) learner of step classifiers: fit / predict.

    The hyper-parameters ``lr``, ``dropout``, ``epochs_init``, ``epochs`` and ``batch_videos``
    default to :class:`~instructvid.steps.training.settings.StepHyperParameters`'s values.

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
        dropout: float = _DEFAULTS.dropout,
        lr: float = _DEFAULTS.lr,
        epochs_init: int = _DEFAULTS.epochs_init,
        epochs: int = _DEFAULTS.epochs,
        batch_videos: int = _DEFAULTS.batch_videos,
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
        progress: ProgressCallback | None = None,
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
                ``tasks`` or whose number of steps is not its task's, or a checkpoint written
                with other settings.
        """
        self._check_params()
        if self._engine(resolve_device(self.device)) != "fast":
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
        for v in videos:
            if v.n_steps != len(tasks[v.task_id]):
                raise ValueError(
                    f"task {v.task_id!r}: video {v.video_id!r} has {v.n_steps} steps, but the "
                    f"task's step list has {len(tasks[v.task_id])}"
                )
        used = {t: tuple(tasks[t]) for t in sorted({v.task_id for v in videos})}
        vocabulary = ComponentVocabulary.build(used, share=self.share, stem=self.stem)
        device = resolve_device(self.device)
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
        ctx = TrainingState(
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
            ctx.adam = Adam([ctx.weight, ctx.bias], self.lr)
        else:
            ctx.setup_torch(engine, weight, bias, self.dropout, self.lr, device)
        rows = [np.zeros(v.n_steps, dtype=np.int64) for v in videos]
        history: list[dict[str, Any]] = []
        fingerprint = training_fingerprint(self.get_params(), videos, dim)
        start = 0
        self.resumed_from_ = 0
        if self.checkpoint is not None and Path(self.checkpoint).is_file():
            start, history = load_checkpoint(Path(self.checkpoint), fingerprint, ctx, rows)
            self.resumed_from_ = start
        total = self.epochs_init + self.epochs
        settings = self._epoch_settings()
        if self.progress is not None:
            self.progress(start, total)
        for epoch in range(start, total):
            started = time.perf_counter()
            if self.supervised:
                record = epoch_supervised(settings, ctx, epoch)
            elif engine == "reference":
                record = epoch_reference(settings, ctx, epoch, rows)
            elif engine == "fast-torch":
                record = epoch_fast_torch(settings, ctx, epoch, rows)
            else:
                record = epoch_fast(settings, ctx, epoch, rows)
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            if self.checkpoint is not None:
                save_checkpoint(Path(self.checkpoint), fingerprint, ctx, rows, history)
            if self.progress is not None:
                self.progress(epoch + 1, total)
        self.history_ = history
        self.labels_ = {
            (v.task_id, v.video_id): r.copy() for v, r in zip(videos, rows, strict=True)
        }
        w, b = ctx.numpy_parameters()
        self.model_ = StepModel(vocabulary=vocabulary, weight=w, bias=b)
        return self

    def _epoch_settings(self) -> EpochSettings:
        """The hyper-parameters one epoch reads."""
        return EpochSettings(
            random_state=self.random_state,
            epochs_init=self.epochs_init,
            batch_videos=self.batch_videos,
            lr=self.lr,
            dropout=self.dropout,
            y_dropout=self.y_dropout,
            constraints=self.constraints,
            penalty=self.penalty,
            a14=self.a14,
        )

    # ---------------------------------------------------------------------------------------
    # Checks and constraints feasibility

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
                stacklevel=4,  # _hard_feasibility ← _fit ← fit ← the caller of fit
            )
        return out
