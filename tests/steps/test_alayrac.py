"""Alayrac'16 baseline: DIFFRAC square loss, Frank–Wolfe with the DP oracle, DP rounding."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.io.crosstask import CrossTaskData
from instructvid.metrics.recall import crosstask_recall
from instructvid.steps.baselines import uniform_assignment
from instructvid.steps.benchmark.alayrac import DiffracTask, fit_alayrac, predict_alayrac
from instructvid.steps.benchmark.protocol import make_splits
from instructvid.steps.benchmark.types import MethodOptions
from tests.steps.planted import planted_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> CrossTaskData:
    return CrossTaskData.open(planted_world(tmp_path_factory.mktemp("planted")))


def _task(world: CrossTaskData, constraints: str = "penalty") -> DiffracTask:
    vids = world.videos["10"][2:]
    return DiffracTask(
        features=[np.asarray(world.features(v)) for v in vids],
        n_steps=3,
        outside=[world.constraints("10", v) == 0 for v in vids],
        constraints=constraints,
        fw_iterations=30,
        ridge=1e-2,
    ).fit()


def test_frank_wolfe_decreases_the_relaxed_objective(world: CrossTaskData) -> None:
    solver = _task(world)
    relaxed = np.array(solver.objective_[:-1])
    assert len(relaxed) >= 2
    assert (np.diff(relaxed) <= 1e-12).all()  # exact line search: monotone
    assert solver.objective_[-1] >= relaxed[-1] - 1e-12  # rounding cannot beat the relaxation
    for labels in solver.labels_:
        assert (labels.sum(axis=0) == 1).all()  # exactly one second per step
        rows = labels.argmax(axis=0)
        assert (np.diff(rows) > 0).all()  # in order


def test_hard_constraints_keep_rounded_labels_inside(world: CrossTaskData) -> None:
    solver = _task(world, "hard")
    for labels, outside in zip(solver.labels_, solver.outside, strict=True):
        assert not (labels.astype(bool) & outside).any()


def test_alayrac_beats_uniform_on_the_planted_world(world: CrossTaskData) -> None:
    split = make_splits(world, n_splits=1, n_train=6)[0]
    model = fit_alayrac(world, split.train, MethodOptions(hyper={"ridge": 1e-2}))
    labels, scores = predict_alayrac(model, world, split.test)
    truth = {t: {v: world.ground_truth(t, v) for v in vids} for t, vids in split.test.items()}
    uniform = {t: {v: uniform_assignment(*y.shape) for v, y in d.items()} for t, d in truth.items()}
    assert crosstask_recall(truth, labels).mean > crosstask_recall(truth, uniform).mean + 0.15
    assert set(scores) == set(split.test)
    with pytest.raises(KeyError, match="no Alayrac model"):
        predict_alayrac(model, world, {"30": ["v30_00"]})
