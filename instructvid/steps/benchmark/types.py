"""The benchmark's vocabulary: a split, a method's predictions, the options every method gets,
and the signatures of a method, of a trained method's ``fit`` and of its ``label``.

Shared by the protocol (:mod:`~instructvid.steps.benchmark.protocol`), the method registry
(:mod:`~instructvid.steps.benchmark.registry`) and the methods themselves, which therefore
never import the protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from instructvid.io.crosstask import CrossTaskData
from instructvid.types import ProgressCallback

__all__ = [
    "ACTIONNESS_SUFFIX",
    "Fit",
    "Label",
    "LabelsAndScores",
    "Method",
    "MethodOptions",
    "Predictions",
    "Split",
    "Videos",
]

#: Suffix of the benchmark rows with actionness (``component+actionness``).
ACTIONNESS_SUFFIX = "+actionness"


@dataclass(frozen=True)
class Split:
    """One train/test split.

    Attributes:
        index: the split's number (0-based).
        train: ``{task_id: [video_id, ...]}`` training videos (primary; related added by methods).
        test: ``{task_id: [video_id, ...]}`` annotated primary test videos.
        val: ``{task_id: [video_id, ...]}`` validation videos whose step scores a method should
            also return (``Predictions.val_scores``); empty unless the benchmark needs them
            (choosing α of eq. 4.4). Never trained on.
    """

    index: int
    seed: int
    train: dict[str, list[str]]
    test: dict[str, list[str]]
    val: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n_test(self) -> int:
        return sum(len(v) for v in self.test.values())


@dataclass
class Predictions:
    """A method's output on a split's test videos: ``labels[task][vid]`` (T, K) 0/1 with one
    second per step, and optionally ``scores[task][vid]`` (T, K) floats (higher = more likely)
    for the mAP and eq. 4.4; ``val_scores`` the same scores on ``split.val`` (when asked)."""

    labels: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    scores: dict[str, dict[str, np.ndarray]] | None = None
    val_scores: dict[str, dict[str, np.ndarray]] | None = None


@dataclass(frozen=True)
class MethodOptions:
    """Options a benchmark passes to every method (each uses those that concern it).

    Attributes:
        related: add the related tasks' videos to the training set of sharing methods.
        constraints: narration constraints at training: ``"penalty"`` (λ·C, the authors'),
            ``"hard"`` (forbidden cells) or ``"none"``.
        penalty: λ.
        stem: stem step words into components.
        hyper: hyper-parameter overrides by name, typed (``lr``, ``dropout``: float;
            ``epochs_init``, ``epochs``, ``batch_videos``: int — fields of
            :class:`~instructvid.steps.training.settings.StepHyperParameters`;
            ``fw_iterations``, ``ridge`` for ``alayrac``); missing ones take each method's
            defaults (its :attr:`~instructvid.steps.benchmark.registry.MethodSpec.hyper`).
        a14: Y-update costs, ``"closed"`` or ``"autograd"``.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        seed: seed of the methods' randomness (training initialisation, order, dropout).
        work_dir: a folder where a method may keep checkpoints (set by
            :func:`~instructvid.steps.benchmark.protocol.run_benchmark`).
        progress: ``progress(done, total)`` of a method's work on one split (trained methods:
            epochs), set per split by
            :func:`~instructvid.steps.benchmark.protocol.run_benchmark`; never part of a cache
            key and without effect on results.
    """

    related: bool = True
    constraints: str = "penalty"
    penalty: float = 1e4
    stem: bool = True
    hyper: Mapping[str, float | int] = field(default_factory=dict)
    a14: str = "closed"
    device: str = "cpu"
    seed: int = 0
    work_dir: Path | None = None
    progress: ProgressCallback | None = field(default=None, compare=False, repr=False)

    def settings(self, keys: Iterable[str]) -> dict[str, Any]:
        """The options named in ``keys`` as JSON values (a cache key).

        ``hyper`` is sorted by name and its values written as floats (``batch_videos`` 16 as
        ``16.0``), the key format of every cached result and RUN folder so far.
        """
        out: dict[str, Any] = {}
        for key in keys:
            value = getattr(self, key)
            if key == "hyper":
                value = {k: float(v) for k, v in sorted(dict(value).items())}
            out[key] = value
        return out


#: A method: (dataset, split, generator, options) -> predictions on ``split.test``.
Method = Callable[[CrossTaskData, Split, np.random.Generator, MethodOptions], Predictions]


#: Videos by task: ``{task_id: [video_id, ...]}``.
Videos = Mapping[str, Sequence[str]]

#: ``(labels, scores)``, each ``{task_id: {video_id: (T, K)}}``.
LabelsAndScores = tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]


class Fit(Protocol):
    """Train a method on ``{task_id: [video_id, ...]}``; returns the fitted model."""

    def __call__(
        self,
        data: CrossTaskData,
        train: Videos,
        options: MethodOptions,
        *,
        checkpoint: Path | None = None,
        progress: ProgressCallback | None = None,
        cache_mb: float = 1024,
    ) -> Any: ...


#: Label videos with a fitted model: ``(model, data, videos) -> (labels, scores)``, each
#: ``{task_id: {video_id: (T, K)}}`` (0/1 uint8 labels, float scores; higher = more likely).
Label = Callable[[Any, CrossTaskData, Videos], LabelsAndScores]
