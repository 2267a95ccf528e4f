"""The built-in benchmark methods of Tables 3.3–3.4: what each one fits and predicts.

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
scores the validation videos; training does not change. ``uniform`` and ``random`` train
nothing. The methods are put together by name in
:func:`~instructvid.steps.benchmark.registry.default_registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.align.dp import ordered_assignment
from instructvid.io.crosstask import CrossTaskData
from instructvid.steps.baselines import random_scores, uniform_assignment
from instructvid.steps.benchmark.alayrac import AlayracModel, fit_alayrac, predict_alayrac
from instructvid.steps.benchmark.types import (
    Fit,
    Label,
    LabelsAndScores,
    Method,
    MethodOptions,
    Predictions,
    Split,
    Videos,
)
from instructvid.steps.training.settings import StepHyperParameters
from instructvid.types import ProgressCallback

__all__ = [
    "LEARNER_OPTIONS",
    "TRAINED_METHODS",
    "TrainedMethod",
    "fit_alayrac_method",
    "fit_method",
    "fit_richard18_method",
    "label_alayrac",
    "label_richard18",
    "label_step_model",
    "make_learner",
    "predict_alayrac_split",
    "predict_random",
    "predict_richard18_split",
    "predict_uniform",
    "predict_with",
    "trained_fit",
    "trained_predict",
    "training_set",
]


@dataclass(frozen=True)
class TrainedMethod:
    """A trained method: the step learner at one setting.

    Attributes:
        share: sharing level (``task``, ``component-task``, ``step``, ``component``).
        supervised: trained on the ground truth (the topline).
        related: uses the related tasks unless ``MethodOptions.related`` is false.
        hyper: its hyper-parameter defaults.
    """

    share: str
    supervised: bool = False
    related: bool = False
    hyper: StepHyperParameters = field(default_factory=StepHyperParameters)


#: The trained methods by name. Hyper-parameters other than the learner's defaults were chosen
#: on the validation videos of the medium synthetic world with ``steps tune`` (docs/steps.md);
#: ``MethodOptions.hyper`` (the command-line ``--lr`` …) overrides them.
TRAINED_METHODS: dict[str, TrainedMethod] = {
    # validation recall 77.4 % (3e-4: 76.0, 3e-3: 70.6)
    "supervised": TrainedMethod("task", supervised=True, hyper=StepHyperParameters(lr=1e-3)),
    # 21.6 % (grid lr 1e-3…3e-2 × batch 8, 16, 32)
    "task": TrainedMethod("task", hyper=StepHyperParameters(lr=3e-3, batch_videos=16)),
    "component-task": TrainedMethod("component-task"),
    "step": TrainedMethod("step", related=True),
    "component": TrainedMethod("component", related=True),
    "step-primary": TrainedMethod("step"),
    "component-primary": TrainedMethod("component"),
}

#: The :class:`MethodOptions` fields a weakly supervised learner's result depends on.
LEARNER_OPTIONS: tuple[str, ...] = ("constraints", "penalty", "stem", "hyper", "a14", "seed")


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


# -------------------------------------------------------------------------------------------
# uniform and random: nothing to train


def predict_uniform(
    data: CrossTaskData, split: Split, rng: np.random.Generator, options: MethodOptions
) -> Predictions:
    """Step k at second ``round(T / K (k + ½))`` of every test video (no scores)."""
    labels = {
        task_id: {
            vid: uniform_assignment(data.check_length(task_id, vid), data.task(task_id).n_steps)
            for vid in vids
        }
        for task_id, vids in split.test.items()
    }
    return Predictions(labels=labels)


def predict_random(
    data: CrossTaskData, split: Split, rng: np.random.Generator, options: MethodOptions
) -> Predictions:
    """U[0, 1) step scores, labelled by the exactly-one DP."""
    labels: dict[str, dict[str, np.ndarray]] = {}
    scores: dict[str, dict[str, np.ndarray]] = {}
    for task_id, vids in split.test.items():
        k = data.task(task_id).n_steps
        labels[task_id], scores[task_id] = {}, {}
        for vid in vids:
            s = random_scores(data.check_length(task_id, vid), k, rng)
            scores[task_id][vid] = s
            labels[task_id][vid] = ordered_assignment(s, exactly_one=True, maximize=True)
    # Drawn after the test scores: the test predictions do not depend on split.val.
    val_scores = {
        task_id: {
            vid: random_scores(data.check_length(task_id, vid), data.task(task_id).n_steps, rng)
            for vid in vids
        }
        for task_id, vids in split.val.items()
    }
    return Predictions(labels=labels, scores=scores, val_scores=val_scores or None)


# -------------------------------------------------------------------------------------------
# The step learner at the settings of each trained method


def make_learner(
    trained: TrainedMethod,
    options: MethodOptions,
    *,
    checkpoint: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cache_mb: float = 1024,
) -> Any:
    """A :class:`~instructvid.steps.training.learner.StepLearner` for ``trained`` and ``options``.

    Hyper-parameters: ``trained.hyper`` overridden by ``options.hyper`` (``fw_iterations`` and
    ``ridge``, Alayrac's, are ignored). ``cache_mb`` bounds the features kept in memory between
    epochs (it changes speed and memory, not results).

    Raises:
        ValueError: an unknown hyper-parameter name.
    """
    from instructvid.steps.training.learner import StepLearner

    hyper = trained.hyper.override(options.hyper, ignore=("fw_iterations", "ridge"))
    return StepLearner(
        share=trained.share,
        stem=options.stem,
        dropout=hyper.dropout,
        lr=hyper.lr,
        epochs_init=hyper.epochs_init,
        epochs=hyper.epochs,
        batch_videos=hyper.batch_videos,
        constraints=options.constraints,
        penalty=options.penalty,
        a14=options.a14,
        supervised=trained.supervised,
        device=options.device,
        random_state=options.seed,
        cache_mb=cache_mb,
        checkpoint=checkpoint,
        progress=progress,
    )


# -------------------------------------------------------------------------------------------
# A method from its fit and label


def fit_method(train_model: Callable[..., Any], *, run_options: bool = False) -> Fit:
    """A :class:`~instructvid.steps.benchmark.types.Fit` calling ``train_model(data, train,
    options)``, plus ``checkpoint``, ``progress`` and ``cache_mb`` with ``run_options`` (the
    other methods train in seconds, without checkpoints, progress via ``options.progress``)."""

    def fit(
        data: CrossTaskData,
        train: Videos,
        options: MethodOptions,
        *,
        checkpoint: str | Path | None = None,
        progress: ProgressCallback | None = None,
        cache_mb: float = 1024,
    ) -> Any:
        if not run_options:
            return train_model(data, train, options)
        return train_model(
            data, train, options, checkpoint=checkpoint, progress=progress, cache_mb=cache_mb
        )

    return fit


def predict_with(
    fit: Fit,
    label: Label,
    *,
    training: Callable[[CrossTaskData, Split, MethodOptions], Videos] | None = None,
    checkpoints: bool = False,
) -> Method:
    """The benchmark's call of a method: ``fit`` on ``training(data, split, options)`` (default
    ``split.train``; with ``checkpoints``, to ``options.work_dir/split_<NN>.npz`` when set),
    ``label`` the test videos (and score ``split.val`` when it is not empty)."""

    def method(
        data: CrossTaskData, split: Split, rng: np.random.Generator, options: MethodOptions
    ) -> Predictions:
        train = split.train if training is None else training(data, split, options)
        checkpoint = None
        if checkpoints and options.work_dir is not None:
            from instructvid.steps.training.checkpoint import legacy_or

            folder = Path(options.work_dir)
            checkpoint = legacy_or(
                folder / f"split_{split.index:02d}.npz", folder / f"split_{split.index:02d}.pt"
            )
        model = fit(data, train, options, checkpoint=checkpoint, progress=options.progress)
        labels, scores = label(model, data, split.test)
        val_scores = label(model, data, split.val)[1] if split.val else None
        return Predictions(labels=labels, scores=scores, val_scores=val_scores)

    return method


# -------------------------------------------------------------------------------------------
# The step learner


def trained_fit(trained: TrainedMethod) -> Fit:
    """The ``fit`` of a trained method: build its training videos, train the learner."""

    def train_learner(
        data: CrossTaskData, train: Videos, options: MethodOptions, **run: Any
    ) -> Any:
        from instructvid.steps.training.data import build_training_videos

        videos = build_training_videos(
            data, train, constraints=options.constraints, supervised=trained.supervised
        )
        learner = make_learner(trained, options, **run)
        return learner.fit(videos, {t: data.task(t).steps for t in train})

    return fit_method(train_learner, run_options=True)


def label_step_model(learner: Any, data: CrossTaskData, videos: Videos) -> LabelsAndScores:
    """Labels and log-probabilities of ``videos`` by a fitted learner's model."""
    from instructvid.steps.training.predict import predict_videos

    return predict_videos(learner.model_, data, videos)


def trained_predict(name: str, trained: TrainedMethod) -> Method:
    """The benchmark's call of a trained method: fit on the split (checkpoint under
    ``options.work_dir``), label the test videos (and score ``split.val``)."""

    def training(data: CrossTaskData, split: Split, options: MethodOptions) -> Videos:
        return training_set(data, split, related=trained.related and options.related)

    method = predict_with(
        trained_fit(trained),
        label_step_model,
        training=training,
        checkpoints=True,
    )
    method.__name__ = f"method_{name.replace('-', '_')}"
    method.__doc__ = f"The {name!r} method (see :mod:`instructvid.steps.benchmark.methods`)."
    return method


# -------------------------------------------------------------------------------------------
# Alayrac et al. 2016


#: ``alayrac``'s fit: one DIFFRAC model per task of ``train`` (no checkpoint: it trains in
#: seconds; progress per task through ``options.progress``).
fit_alayrac_method: Fit = fit_method(fit_alayrac)


def label_alayrac(model: AlayracModel, data: CrossTaskData, videos: Videos) -> LabelsAndScores:
    """Labels and linear scores of ``videos`` by a fitted Alayrac model."""
    return predict_alayrac(model, data, videos)


#: ``alayrac`` on a split: fit on the primary training videos, label the test videos.
predict_alayrac_split: Method = predict_with(fit_alayrac_method, label_alayrac)


# -------------------------------------------------------------------------------------------
# Richard et al. 2018 (action sets)


def fit_richard18_method(annotated_sets: bool) -> Fit:
    """``richard18``'s fit (``richard18-annotated``: sets from the annotations)."""

    def train_model(data: CrossTaskData, train: Videos, options: MethodOptions) -> Any:
        from instructvid.steps.benchmark.richard18 import fit_richard18

        return fit_richard18(data, train, options, annotated_sets=annotated_sets)

    return fit_method(train_model)


def label_richard18(model: Any, data: CrossTaskData, videos: Videos) -> LabelsAndScores:
    """Labels (our exactly-one DP) and step log-probabilities of ``videos``."""
    from instructvid.steps.benchmark.richard18 import predict_richard18

    return predict_richard18(model, data, videos)


def predict_richard18_split(annotated_sets: bool) -> Method:
    """``richard18`` on a split: fit on the primary training videos, label the test videos."""
    return predict_with(fit_richard18_method(annotated_sets), label_richard18)
