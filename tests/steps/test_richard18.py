"""Richard'18 (action sets): initial segmentation, pseudo-label rounds, benchmark method."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from instructvid.io.crosstask import CrossTaskData
from instructvid.steps.benchmark.protocol import make_splits, predict_split, score_predictions
from instructvid.steps.benchmark.registry import default_registry
from instructvid.steps.benchmark.richard18 import (
    SetTask,
    fit_richard18,
    initial_labels,
    predict_richard18,
)
from instructvid.steps.benchmark.types import MethodOptions
from tests.steps.planted import planted_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> CrossTaskData:
    return CrossTaskData.open(planted_world(tmp_path_factory.mktemp("planted")))


@pytest.mark.parametrize("t,k", [(3, 3), (10, 3), (37, 11), (100, 5)])
def test_initial_labels_hold_every_step_once(t: int, k: int) -> None:
    labels = initial_labels(t, k, np.random.default_rng(0), fraction=0.5)
    assert labels.shape == (t,)
    runs = [labels[i] for i in range(t) if labels[i] and (i == 0 or labels[i - 1] != labels[i])]
    assert sorted(runs) == list(range(1, k + 1))  # each step exactly one segment
    with pytest.raises(ValueError):
        initial_labels(2, 3, np.random.default_rng(0))


def test_orders_differ_between_videos() -> None:
    rng = np.random.default_rng(0)
    orders = set()
    for _ in range(10):
        y = initial_labels(50, 4, rng)
        orders.add(tuple(dict.fromkeys(int(v) for v in y if v)))
    assert len(orders) > 1  # no order is imposed


def _blobs(seed: int, subsets: bool) -> tuple[list[np.ndarray], list[np.ndarray], list]:
    """Videos whose steps (distinct directions) come in a random order, with background;
    with ``subsets`` each video shows a random 2 of the 3 steps."""
    rng = np.random.default_rng(seed)
    protos = np.eye(4) * 3.0  # class 0 = background, 1..3 = steps
    feats, truths, sets = [], [], []
    for _ in range(16):
        order = rng.permutation(3)[: 2 if subsets else 3] + 1
        y = np.zeros(30, dtype=np.int64)
        for i, step in enumerate(order):
            y[3 + 9 * i : 3 + 9 * i + 4] = step
        feats.append(protos[y] + 0.3 * rng.standard_normal((30, 4)))
        truths.append(y)
        sets.append(sorted(order.tolist()))
    return feats, truths, sets


def _agreement(labels: list[np.ndarray], truths: list[np.ndarray], perm: tuple) -> float:
    mapped = np.asarray(perm)[np.concatenate(labels)]
    return float(np.mean(mapped == np.concatenate(truths)))


def test_same_set_everywhere_finds_the_steps_up_to_their_names() -> None:
    """With the task's full set for every video (CrossTask's case), segments are found but
    which step is which cannot be told: the labels agree with the truth up to a permutation."""
    feats, truths, _ = _blobs(0, subsets=False)
    solver = SetTask(features=feats, n_steps=3, rounds=6, random_state=0).fit()
    perms = [(0, *p) for p in itertools.permutations((1, 2, 3))]
    assert max(_agreement(solver.labels_, truths, p) for p in perms) > 0.9
    for labels in solver.labels_:
        assert set(range(1, 4)) <= set(labels.tolist())  # every step of the set at least once
    again = SetTask(features=feats, n_steps=3, rounds=6, random_state=0).fit()
    np.testing.assert_array_equal(solver.weight_, again.weight_)  # seeded


def test_pseudo_labels_keep_to_each_video_set() -> None:
    feats, _, sets = _blobs(1, subsets=True)
    solver = SetTask(features=feats, n_steps=3, sets=sets, rounds=3, random_state=0).fit()
    assert solver.changed_[0] > 0  # the rounds move the labels
    for labels, steps in zip(solver.labels_, sets, strict=True):
        present = set(labels.tolist()) - {0}
        assert present == set(steps)  # every step of the set, and no other step


def test_method_on_the_planted_world(world: CrossTaskData) -> None:
    assert "richard18" in default_registry()
    split = make_splits(world, n_splits=1, n_train=6)[0]
    options = MethodOptions(hyper={"rounds": 2})
    model = fit_richard18(world, split.train, options)
    labels, scores = predict_richard18(model, world, split.test)
    for task_id, vids in split.test.items():
        k = world.task(task_id).n_steps
        for vid in vids:
            assert scores[task_id][vid].shape == (world.n_frames(vid), k)
            assert np.allclose(np.exp(scores[task_id][vid]).sum(axis=1) <= 1 + 1e-6, True)
            rows = labels[task_id][vid].argmax(axis=0)
            assert (labels[task_id][vid].sum(axis=0) == 1).all() and (np.diff(rows) > 0).all()
    result = score_predictions(
        world, split, predict_split(world, split, "richard18", options=options)
    )
    assert 0.0 <= result["mean"] <= 1.0 and result["map"] is not None
    annotated = predict_split(world, split, "richard18-annotated", options=options)
    assert score_predictions(world, split, annotated)["mean"] >= 0.0
    with pytest.raises(KeyError, match="no Richard"):
        predict_richard18(model, world, {"30": ["v30_00"]})
