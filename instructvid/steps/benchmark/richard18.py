"""Richard, Kuehne & Gall 2018 ("Action Sets") as a baseline (thesis Table 3.3, Table A.2).

Weak supervision from **action sets**: a training video is only known to contain the steps of
its task, in no particular order (the order of the task's step list, the narration and the
narration intervals are not used). One frame-wise classifier per task over ``K + 1`` classes
(background = class 0, the task's steps = 1 … K) is trained by alternating

1. **pseudo-labels**: each training video is segmented by the unordered decoder
   (:func:`instructvid.align.unordered.unordered_decode`): every step of the video's set at
   least once, any order, no step outside the set, background anywhere, maximising the *hybrid* scores ``log p(c | x_t) − log p(c)`` (the
   paper's posterior-to-likelihood conversion, p(c) = the class's share of the pseudo-labelled
   frames) plus a per-class length model whose means are re-estimated from the current
   pseudo-labels;
2. **classifier**: multinomial logistic regression (L2, L-BFGS, warm-started) on every frame of
   the task's training videos with its pseudo-label.

The first pseudo-labels are a uniform segmentation in a random order (per video, seeded): the
video is cut into K equal slots in a random permutation of the steps, each step covering the
middle ``init_fraction`` of its slot, the rest background.

At test time, as the thesis does for a fair comparison (§3.6.1), the trained classifier's step
log-probabilities ``log p(k | x_t)`` (k = 1 … K, softmax over the K + 1 classes) are labelled by
*our* inference, the exactly-one ordered DP; they are also the scores of the mAP.

Simplified from the paper: a linear softmax classifier instead of its recurrent network; a
geometric length model (first-order, exact decoding linear in T) instead of a Poisson one; no
context model beyond "every step of the set at least once"; no multiple-instance-learning
pre-training (all videos of a task share the same set, so a video-level set loss carries no
information here); the paper's inference over candidate sets is replaced by ours, as in the
thesis.

Hyper-parameters (``MethodOptions.hyper``, see :data:`DEFAULTS`): ``rounds``, ``l2``,
``lbfgs_iterations``, ``init_fraction``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax

from instructvid.align.dp import ordered_assignment_batch
from instructvid.align.unordered import geometric_length_model, unordered_decode
from instructvid.io.crosstask import CrossTaskData
from instructvid.steps.benchmark.types import MethodOptions

__all__ = [
    "DEFAULTS",
    "Richard18Model",
    "SetTask",
    "fit_richard18",
    "initial_labels",
    "predict_richard18",
]

#: Rounds of (pseudo-labels, classifier); L2 weight of the classifier; its L-BFGS iterations per
#: round; share of each slot covered by its step in the initial segmentation.
DEFAULTS: dict[str, float] = {
    "rounds": 4,
    "l2": 1e-3,
    "lbfgs_iterations": 100,
    "init_fraction": 0.5,
}


def initial_labels(
    n_frames: int,
    n_steps: int,
    rng: np.random.Generator,
    fraction: float = 0.5,
    steps: Sequence[int] | None = None,
) -> np.ndarray:
    """A uniform segmentation in a random step order: (T,) labels in [0, K] (0 = background).

    The video is cut into as many equal slots as it has steps (``steps``, 1-based; default all
    K); slot i holds step ``perm[i]`` over the middle ``fraction`` of it (at least one frame),
    background elsewhere.
    """
    chosen = np.arange(1, n_steps + 1) if steps is None else np.asarray(sorted(steps))
    if n_frames < len(chosen):
        raise ValueError(f"{n_frames} frames cannot hold {len(chosen)} steps")
    labels = np.zeros(n_frames, dtype=np.int64)
    perm = rng.permutation(chosen)
    n_steps = len(chosen)
    edges = np.linspace(0, n_frames, n_steps + 1)
    for i, step in enumerate(perm):
        lo, hi = edges[i], edges[i + 1]
        half = max(0.5, fraction * (hi - lo) / 2)
        mid = (lo + hi) / 2
        a = int(np.clip(np.floor(mid - half), np.ceil(lo - 1e-9), hi - 1))
        b = int(np.clip(np.ceil(mid + half), a + 1, max(a + 1, np.floor(hi + 1e-9))))
        labels[a:b] = step
    return labels


def _segment_lengths(labels: Sequence[np.ndarray], n_classes: int) -> np.ndarray:
    """(C,) mean segment length per class over the videos (1 for a class never seen)."""
    total = np.zeros(n_classes)
    count = np.zeros(n_classes)
    for y in labels:
        change = np.flatnonzero(np.diff(y)) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [len(y)]])
        np.add.at(total, y[starts], ends - starts)
        np.add.at(count, y[starts], 1)
    return np.where(count > 0, total / np.maximum(count, 1), 1.0)


@dataclass
class SetTask:
    """Richard'18 training on one task's videos.

    Args:
        features: per video (T_v, d) float arrays, one row per second.
        n_steps: K (0 is background, 1 … K the steps).
        sets: per video its action set (1-based steps), or ``None``: {1 … K} for every video.
        rounds, l2, lbfgs_iterations, init_fraction: see :data:`DEFAULTS`.
        random_state: seed of the initial segmentations.

    Attributes (after :meth:`fit`):
        weight_: (d, K + 1); bias_: (K + 1,) — logits ``x W + b``, class 0 background.
        labels_: per video (T_v,) final pseudo-labels in [0, K].
        changed_: per round, the fraction of training frames whose pseudo-label changed.
        mean_length_: (K + 1,) mean segment lengths (frames) of the last length model.
    """

    features: Sequence[np.ndarray]
    n_steps: int
    sets: Sequence[Sequence[int]] | None = None
    rounds: int = 4
    l2: float = 1e-3
    lbfgs_iterations: int = 100
    init_fraction: float = 0.5
    random_state: int = 0
    changed_: list[float] = field(default_factory=list)

    def fit(self) -> SetTask:
        x = np.concatenate([np.asarray(f, dtype=np.float64) for f in self.features])
        offsets = np.concatenate([[0], np.cumsum([len(f) for f in self.features])])
        n_classes = self.n_steps + 1
        rng = np.random.default_rng(self.random_state)
        sets = self.sets or [list(range(1, n_classes))] * len(self.features)
        labels = [
            initial_labels(len(f), self.n_steps, rng, self.init_fraction, steps=s)
            for f, s in zip(self.features, sets, strict=True)
        ]
        params = np.zeros((x.shape[1] + 1) * n_classes)
        self.changed_ = []
        for _ in range(int(self.rounds)):
            y = np.concatenate(labels)
            params = self._fit_classifier(x, y, n_classes, params)
            w, b = self._unpack(params, x.shape[1], n_classes)
            log_post = log_softmax(x @ w + b, axis=1)
            freq = np.bincount(y, minlength=n_classes) / len(y)
            hybrid = log_post - np.log(np.maximum(freq, 1.0 / len(y)))
            stay, start = geometric_length_model(_segment_lengths(labels, n_classes))
            new = []
            for i, steps in enumerate(sets):
                video = hybrid[offsets[i] : offsets[i + 1]].copy()
                outside = np.setdiff1d(np.arange(1, n_classes), steps)
                video[:, outside] = -np.inf  # only background and the video's set
                new.append(unordered_decode(video, steps, stay, start)[0])
            changed = float(np.mean(np.concatenate(new) != y))
            self.changed_.append(changed)
            labels = new
            if changed == 0.0:
                break
        params = self._fit_classifier(x, np.concatenate(labels), n_classes, params)
        self.weight_, self.bias_ = self._unpack(params, x.shape[1], n_classes)
        self.labels_ = labels
        self.mean_length_ = _segment_lengths(labels, n_classes)
        return self

    @staticmethod
    def _unpack(params: np.ndarray, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
        return params[: d * c].reshape(d, c), params[d * c :]

    def _fit_classifier(
        self, x: np.ndarray, y: np.ndarray, n_classes: int, start: np.ndarray
    ) -> np.ndarray:
        """Multinomial logistic regression, mean cross-entropy + (l2/2)‖W‖², L-BFGS."""
        n, d = x.shape
        onehot = np.zeros((n, n_classes))
        onehot[np.arange(n), y] = 1.0

        def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = self._unpack(params, d, n_classes)
            logp = log_softmax(x @ w + b, axis=1)
            value = -float((logp * onehot).sum()) / n + 0.5 * self.l2 * float((w * w).sum())
            residual = (np.exp(logp) - onehot) / n
            grad_w = x.T @ residual + self.l2 * w
            return value, np.concatenate([grad_w.ravel(), residual.sum(axis=0)])

        result = minimize(
            loss,
            start,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.lbfgs_iterations)},
        )
        return np.asarray(result.x)


@dataclass
class Richard18Model:
    """Per-task frame classifiers: ``logits = X @ weight[task] + bias[task]``, class 0 =
    background, class k = step k (1-based)."""

    weight: dict[str, np.ndarray]
    bias: dict[str, np.ndarray]
    changed: dict[str, list[float]] = field(default_factory=dict)


def fit_richard18(
    data: CrossTaskData,
    train: Mapping[str, Sequence[str]],
    options: MethodOptions,
    *,
    annotated_sets: bool = False,
) -> Richard18Model:
    """Fit one action-set classifier per task of ``train`` (primary tasks; no sharing).

    Args:
        annotated_sets: a video's action set is the steps annotated in it (more supervision
            than the other weakly supervised methods get); default: the task's steps, the
            same for every video — the supervision of the step list without its order.
    """
    from instructvid.runtime import limit_threads

    with limit_threads(1):
        return _fit_richard18(data, train, options, annotated_sets)


def _fit_richard18(
    data: CrossTaskData,
    train: Mapping[str, Sequence[str]],
    options: MethodOptions,
    annotated_sets: bool,
) -> Richard18Model:
    hyper = {**DEFAULTS, **{k: v for k, v in options.hyper.items() if k in DEFAULTS}}
    model = Richard18Model(weight={}, bias={})
    for index, task_id in enumerate(sorted(train)):
        if options.progress is not None:
            options.progress(index, len(train))  # tasks fitted so far
        k = data.task(task_id).n_steps
        feats, sets = [], []
        for vid in train[task_id]:
            steps = list(range(1, k + 1))
            if annotated_sets and data.has_annotation(task_id, vid):
                present = np.flatnonzero(data.ground_truth(task_id, vid).any(axis=0)) + 1
                steps = present.tolist() if len(present) else steps
            if data.n_frames(vid) >= len(steps):
                feats.append(np.asarray(data.features(vid), dtype=np.float32))
                sets.append(steps)
        if not feats:
            continue
        solver = SetTask(
            features=feats,
            n_steps=k,
            sets=sets,
            rounds=int(hyper["rounds"]),
            l2=float(hyper["l2"]),
            lbfgs_iterations=int(hyper["lbfgs_iterations"]),
            init_fraction=float(hyper["init_fraction"]),
            random_state=int(np.random.default_rng([options.seed, index]).integers(2**31)),
        ).fit()
        model.weight[task_id] = solver.weight_.astype(np.float32)
        model.bias[task_id] = solver.bias_.astype(np.float32)
        model.changed[task_id] = list(solver.changed_)
    return model


def predict_richard18(
    model: Richard18Model, data: CrossTaskData, videos: Mapping[str, Sequence[str]]
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
    """Exactly-one ordered labels and step log-probabilities (T, K) of ``{task_id: [vid]}``."""
    labels: dict[str, dict[str, np.ndarray]] = {}
    scores: dict[str, dict[str, np.ndarray]] = {}
    for task_id, vids in videos.items():
        if task_id not in model.weight:
            raise KeyError(f"task {task_id!r} has no Richard'18 model (no training video)")
        w, b = model.weight[task_id], model.bias[task_id]
        s = {
            vid: log_softmax(np.asarray(data.features(vid), dtype=np.float32) @ w + b, axis=1)[
                :, 1:
            ]
            for vid in vids
        }
        assigned = ordered_assignment_batch(list(s.values()), exactly_one=True, maximize=True)
        scores[task_id] = s
        labels[task_id] = {vid: a.copy() for vid, a in zip(vids, assigned, strict=True)}
    return labels, scores
