"""The trained step-localization methods of Tables 3.3–3.4, registered in the protocol.

=====================  ==========================================================  =========
name                   what                                                        related
=====================  ==========================================================  =========
``supervised``         task-specific step classifiers on the ground truth (topline)  no
``task``               task-specific steps, weakly supervised                       no
``component-task``     components shared within a task ("unshared component")       no
``step``               one classifier per unique step text                          yes¹
``component``          components (stemmed words) shared across tasks (proposed)    yes¹
``step-primary``       ``step`` without related tasks (Table 3.4, middle column)    no
``component-primary``  ``component`` without related tasks                          no
``alayrac``            Alayrac'16: DIFFRAC square loss, Frank–Wolfe, task-specific  no
=====================  ==========================================================  =========

¹ unless ``MethodOptions.related`` is false (``--no-related``). With ``--no-related`` the names
``step``/``component`` give the "shared primary" column of Table 3.4; the ``-primary`` aliases
give it in the same run as the related-task versions, so that one benchmark fills all six
cells (``task``, ``component-task``, ``step-primary``, ``component-primary``, ``step``,
``component``).

Each method trains on the split's training videos (30 per primary task by default, plus every
video of the related tasks when it uses them), predicts the test videos with the exactly-one
DP and returns the log-probabilities as scores for the mAP (``alayrac``: its linear scores).
When the benchmark asks for them (``split.val``, to choose α of eq. 4.4) the same model also
scores the validation videos; training does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.crosstask import CrossTaskData
from instructvid.steps.benchmark.protocol import MethodOptions, Predictions, Split, register
from instructvid.types import ProgressCallback

__all__ = [
    "METHOD_DEFAULTS",
    "SHARED_METHODS",
    "TRAINED_METHODS",
    "fit_method",
    "learner_for",
    "training_set",
]

#: name -> (sharing level, supervised, uses related tasks: True = unless --no-related).
TRAINED_METHODS: dict[str, tuple[str, bool, bool]] = {
    "supervised": ("task", True, False),
    "task": ("task", False, False),
    "component-task": ("component-task", False, False),
    "step": ("step", False, True),
    "component": ("component", False, True),
    "step-primary": ("step", False, False),
    "component-primary": ("component", False, False),
}

#: Methods whose training set includes the related tasks unless ``--no-related``.
SHARED_METHODS: tuple[str, ...] = ("step", "component")

_LEARNER_OPTIONS = ("constraints", "penalty", "stem", "hyper", "a14", "seed")

#: Per-method hyper-parameters chosen on the validation videos of the medium synthetic world
#: with ``steps tune`` (docs/steps.md); the others are
#: :data:`~instructvid.steps.training.learner.DEFAULT_HYPERPARAMETERS`. ``MethodOptions.hyper`` (the
#: command-line ``--lr`` …) overrides both.
METHOD_DEFAULTS: dict[str, dict[str, float]] = {
    "supervised": {"lr": 1e-3},  # validation recall 77.4 % (3e-4: 76.0, 3e-3: 70.6)
    "task": {"lr": 3e-3, "batch_videos": 16},  # 21.6 % (grid lr 1e-3…3e-2 × batch 8, 16, 32)
}


def training_set(data: CrossTaskData, split: Split, *, related: bool) -> dict[str, list[str]]:
    """``{task_id: [video_id, ...]}``: the split's primary training videos, plus every
    (non-validation) video of the related tasks when ``related``."""
    train = {t: list(v) for t, v in split.train.items()}
    if related:
        for task_id in data.related:
            vids = data.non_val_videos(task_id)
            if vids:
                train[task_id] = vids
    return train


def learner_for(
    share: str,
    options: MethodOptions,
    *,
    supervised: bool = False,
    checkpoint: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cache_mb: float = 1024,
    method: str | None = None,
) -> Any:
    """A :class:`~instructvid.steps.training.learner.StepLearner` configured from benchmark options.

    Hyper-parameters: the learner's defaults, then ``METHOD_DEFAULTS[method]``, then
    ``options.hyper``. ``cache_mb`` bounds the features kept in memory between epochs (it
    changes speed and memory, not results)."""
    from instructvid.steps.training.learner import DEFAULT_HYPERPARAMETERS, StepLearner

    hyper = {
        **DEFAULT_HYPERPARAMETERS,
        **METHOD_DEFAULTS.get(method or "", {}),
        **dict(options.hyper),
    }
    unknown = set(options.hyper) - set(DEFAULT_HYPERPARAMETERS) - {"fw_iterations", "ridge"}
    if unknown:
        raise ValueError(
            f"unknown hyper-parameter(s) {sorted(unknown)}; known: "
            f"{sorted(DEFAULT_HYPERPARAMETERS)} (and fw_iterations, ridge for alayrac)"
        )
    return StepLearner(
        share=share,
        stem=options.stem,
        dropout=float(hyper["dropout"]),
        lr=float(hyper["lr"]),
        epochs_init=int(hyper["epochs_init"]),
        epochs=int(hyper["epochs"]),
        batch_videos=int(hyper["batch_videos"]),
        constraints=options.constraints,
        penalty=options.penalty,
        a14=options.a14,
        supervised=supervised,
        device=options.device,
        random_state=options.seed,
        cache_mb=cache_mb,
        checkpoint=checkpoint,
        progress=progress,
    )


def fit_method(
    name: str,
    data: CrossTaskData,
    train: Mapping[str, Sequence[str]],
    options: MethodOptions,
    *,
    checkpoint: str | Path | None = None,
    progress: ProgressCallback | None = None,
) -> Any:
    """Train method ``name`` on ``{task_id: [video_id, ...]}``; returns the fitted learner."""
    from instructvid.steps.training.learner import build_training_videos

    share, supervised, _ = TRAINED_METHODS[name]
    videos = build_training_videos(
        data, train, constraints=options.constraints, supervised=supervised
    )
    learner = learner_for(
        share,
        options,
        supervised=supervised,
        checkpoint=checkpoint,
        progress=progress,
        method=name,
    )
    return learner.fit(videos, {t: data.task(t).steps for t in train})


def _make_method(name: str) -> Callable[..., Predictions]:
    _, _, shares_related = TRAINED_METHODS[name]

    def method(
        data: CrossTaskData, split: Split, rng: np.random.Generator, options: MethodOptions
    ) -> Predictions:
        from instructvid.steps.training.learner import predict_videos

        related = shares_related and options.related
        checkpoint = None
        if options.work_dir is not None:
            from instructvid.steps.training.checkpoint import legacy_or

            folder = Path(options.work_dir)
            checkpoint = legacy_or(
                folder / f"split_{split.index:02d}.npz", folder / f"split_{split.index:02d}.pt"
            )
        learner = fit_method(
            name, data, training_set(data, split, related=related), options, checkpoint=checkpoint
        )
        labels, scores = predict_videos(learner.model_, data, split.test)
        val_scores = predict_videos(learner.model_, data, split.val)[1] if split.val else None
        return Predictions(labels=labels, scores=scores, val_scores=val_scores)

    method.__name__ = f"method_{name.replace('-', '_')}"
    method.__doc__ = f"The {name!r} method (see :mod:`instructvid.steps.benchmark.methods`)."
    return method


def _alayrac(
    data: CrossTaskData, split: Split, rng: np.random.Generator, options: MethodOptions
) -> Predictions:
    from instructvid.steps.benchmark.alayrac import fit_alayrac, predict_alayrac

    model = fit_alayrac(data, split.train, options)
    labels, scores = predict_alayrac(model, data, split.test)
    val_scores = predict_alayrac(model, data, split.val)[1] if split.val else None
    return Predictions(labels=labels, scores=scores, val_scores=val_scores)


for _name, (_share, _supervised, _shares) in TRAINED_METHODS.items():
    _keys = _LEARNER_OPTIONS + (("related",) if _shares else ())
    if _supervised:
        _keys = ("stem", "hyper", "seed")
    register(_name, _make_method(_name), options=_keys)
register("alayrac", _alayrac, options=("constraints", "penalty", "hyper", "seed"))


def _richard18(annotated_sets: bool) -> Callable[..., Predictions]:
    def method(
        data: CrossTaskData, split: Split, rng: np.random.Generator, options: MethodOptions
    ) -> Predictions:
        from instructvid.steps.benchmark.richard18 import fit_richard18, predict_richard18

        model = fit_richard18(data, split.train, options, annotated_sets=annotated_sets)
        labels, scores = predict_richard18(model, data, split.test)
        val_scores = predict_richard18(model, data, split.val)[1] if split.val else None
        return Predictions(labels=labels, scores=scores, val_scores=val_scores)

    return method


register("richard18", _richard18(False), options=("hyper", "seed"))
register("richard18-annotated", _richard18(True), options=("hyper", "seed"))
