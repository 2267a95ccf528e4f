"""Typed hyper-parameters: overrides keep their types, the registry carries each method's own."""

from __future__ import annotations

import pytest

from instructvid.cli.steps.options import TrainingFlags
from instructvid.steps.benchmark.alayrac import AlayracSettings
from instructvid.steps.benchmark.methods import TRAINED_METHODS, make_learner
from instructvid.steps.benchmark.registry import default_registry
from instructvid.steps.benchmark.types import MethodOptions
from instructvid.steps.training.learner import StepLearner
from instructvid.steps.training.settings import StepHyperParameters, format_default


def test_overrides_are_typed_and_checked() -> None:
    base = StepHyperParameters()
    new = base.override({"batch_videos": 16.0, "lr": 1, "epochs": 2})
    assert new.batch_videos == 16 and isinstance(new.batch_videos, int)
    assert new.lr == 1.0 and isinstance(new.lr, float)
    assert new.epochs == 2 and new.epochs_init == base.epochs_init
    with pytest.raises(ValueError, match="must be an integer"):
        base.override({"epochs": 2.5})
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        base.override({"momentum": 0.9})
    assert base.override({"ridge": 3.0}, ignore=("ridge",)) == base


def test_the_learner_the_methods_and_the_help_share_one_set_of_defaults() -> None:
    defaults = StepHyperParameters()
    learner = StepLearner()
    assert (learner.lr, learner.dropout, learner.epochs_init, learner.epochs) == (
        defaults.lr,
        defaults.dropout,
        defaults.epochs_init,
        defaults.epochs,
    )
    assert learner.batch_videos == defaults.batch_videos
    # Methods tuned on validation start from their own values; options override them.
    task = make_learner(TRAINED_METHODS["task"], MethodOptions())
    assert (task.lr, task.batch_videos) == (3e-3, 16)
    given = make_learner(TRAINED_METHODS["task"], MethodOptions(hyper={"batch_videos": 4}))
    assert (given.lr, given.batch_videos) == (3e-3, 4)
    assert make_learner(TRAINED_METHODS["component"], MethodOptions()).lr == defaults.lr
    registry = default_registry()
    assert registry["supervised"].hyper == StepHyperParameters(lr=1e-3)
    assert registry["alayrac"].hyper == AlayracSettings()
    assert [format_default(v) for v in (3e-4, 0.3, 30, 1e-5)] == ["3e-4", "0.3", "30", "1e-5"]


def test_command_line_flags_keep_integers_integers() -> None:
    flags = TrainingFlags(batch_videos=4, lr=1e-3, epochs=2, hard_constraints=True, no_stem=True)
    options = flags.method_options(7)
    assert options.hyper == {"epochs": 2, "lr": 1e-3, "batch_videos": 4}
    assert isinstance(options.hyper["batch_videos"], int)
    assert (options.constraints, options.stem, options.seed) == ("hard", False, 7)
    # The cache key keeps the format of every result written so far (numbers as floats).
    assert options.settings(("hyper",)) == {
        "hyper": {"batch_videos": 4.0, "epochs": 2.0, "lr": 1e-3}
    }
    assert flags.method_options(0, related=False).related is False
