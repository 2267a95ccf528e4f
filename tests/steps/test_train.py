"""Weakly supervised training: the A.14 closed form, descent, planted worlds, resumption."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from instructvid.io.crosstask import CrossTaskData
from instructvid.metrics.recall import crosstask_recall
from instructvid.steps.baselines import uniform_assignment
from instructvid.steps.benchmark.methods import training_set
from instructvid.steps.benchmark.protocol import make_splits
from instructvid.steps.training.data import TrainVideo, build_training_videos
from instructvid.steps.training.gradients import (
    _a14_rows_kernel,
    a14_costs,
    a14_costs_autograd,
    theta_gradient,
)
from instructvid.steps.training.learner import StepLearner
from instructvid.steps.training.predict import predict_videos
from tests.steps.planted import planted_world

FAST = {"epochs_init": 4, "epochs": 8, "batch_videos": 4, "lr": 0.05}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> CrossTaskData:
    return CrossTaskData.open(planted_world(tmp_path_factory.mktemp("planted")))


def _problem(seed: int = 0, n: int = 60, d: int = 7, m: int = 5, k: int = 3):
    """Random A.14 inputs: 2 videos (lengths 25, 35), one label per step, some penalties."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    weight = 0.3 * torch.randn(m, d, generator=g)
    bias = 0.3 * torch.randn(m, generator=g)
    a = (torch.rand(m, k, generator=g) > 0.4).float()
    a[0] = 1.0  # no empty column
    a = a / a.sum(dim=0)
    y = torch.zeros(n, k)
    for start, rows in ((0, [3, 10, 20]), (25, [2, 17, 30])):
        y[[start + r for r in rows], torch.arange(k)] = 1.0
    inv_t = torch.cat([torch.full((25,), 1 / 25), torch.full((35,), 1 / 35)])
    penalty = 1e4 * (torch.rand(n, k, generator=g) > 0.8).float()
    return x, y, inv_t, weight, bias, a, penalty


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_a14_costs_equal_autograd(seed: int) -> None:
    x, y, inv_t, weight, bias, a, penalty = _problem(seed)
    x, weight, bias, a, penalty, inv_t = (t.double() for t in (x, weight, bias, a, penalty, inv_t))
    y = y.double()
    for lr in (1e-5, 0.1, 3.0):  # large δ makes the gradient-norm term visible
        closed = a14_costs(x, y, inv_t, weight, bias, a, penalty, lr)
        auto = a14_costs_autograd(x, y, inv_t, weight, bias, a, penalty, lr)
        torch.testing.assert_close(closed, auto, rtol=1e-9, atol=1e-9)
    # The δ term is not negligible at lr = 3: the test would catch a wrong closed form.
    no_term = a14_costs(x, y, inv_t, weight, bias, a, penalty, 0.0)
    assert (closed - no_term).abs().max() > 1e-3


def test_compiled_row_kernel_equals_torch_closed_form() -> None:
    x, y, inv_t, weight, bias, a, penalty = _problem(3)
    lr = 0.5
    expected = a14_costs(x, y, inv_t, weight, bias, a, penalty, lr).double().numpy()
    # Rebuild z = X [V | H] the way the CPU engine does.
    rows = torch.nonzero(y.sum(1) > 0).squeeze(1)
    s = a.T @ a
    v = (a.T @ weight).T
    beta = bias @ a
    p = torch.softmax(x[rows] @ v + beta, dim=1)
    r = (p - y[rows]) * inv_t[rows, None]
    z = (x @ torch.cat([v, x[rows].T @ (r @ s)], dim=1)).numpy()
    out = np.empty(expected.shape)
    outside = (penalty > 0).numpy()
    _a14_rows_kernel(
        z, beta.numpy(), (s @ r.sum(0)).numpy(), lr, inv_t.numpy(), outside,
        np.zeros(len(z), bool), 1e4, out,
    )  # fmt: skip
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)
    hard = np.empty(expected.shape)
    _a14_rows_kernel(
        z, beta.numpy(), (s @ r.sum(0)).numpy(), lr, inv_t.numpy(), outside,
        np.ones(len(z), bool), 1e4, hard,
    )  # fmt: skip
    assert np.isinf(hard[outside]).all() and np.isfinite(hard[~outside]).all()


def test_theta_gradient_equals_autograd() -> None:
    x, y, inv_t, weight, bias, a, _ = _problem(4)
    rows = torch.nonzero(y.sum(1) > 0).squeeze(1)
    gw, gb, loss = theta_gradient(x[rows], y[rows], inv_t[rows], weight, bias, a)
    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    full = (y * -torch.log_softmax((x @ w.T + b) @ a, dim=1) * inv_t[:, None]).sum()
    full.backward()
    torch.testing.assert_close(gw, w.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gb, b.grad, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(float(full.detach()), rel=1e-5)


def test_one_alternation_step_lowers_the_objective() -> None:
    """A.10: the Y-update (DP on the A.14 costs) then the θ-step (A.15, plain gradient step
    with δ) does not increase Σ Y F(θ)."""
    from instructvid.align.dp import ordered_assignment

    x, y, inv_t, weight, bias, a, _ = _problem(5)
    pen = torch.zeros_like(y)
    lengths = [25, 35]

    def objective(y_: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> float:
        logp = torch.log_softmax((x @ w.T + b) @ a, dim=1)
        return float((y_ * -logp * inv_t[:, None]).sum())

    for delta in (0.01, 0.1, 0.3):
        before = objective(y, weight, bias)
        costs = a14_costs(x, y, inv_t, weight, bias, a, pen, delta).double().numpy()
        y_new = torch.zeros_like(y)
        start = 0
        for t_len in lengths:
            block = ordered_assignment(costs[start : start + t_len], maximize=False)
            y_new[start : start + t_len] = torch.from_numpy(block.astype(np.float32))
            start += t_len
        rows = torch.nonzero(y_new.sum(1) > 0).squeeze(1)
        gw, gb, _ = theta_gradient(x[rows], y_new[rows], inv_t[rows], weight, bias, a)
        after = objective(y_new, weight - delta * gw, bias - delta * gb)
        assert after <= before + 1e-9, (delta, before, after)
        assert objective(y_new, weight, bias) <= before + 1e-9  # Y-update alone (δ small)


def _recall(world: CrossTaskData, labels) -> float:
    split = make_splits(world, n_splits=1, n_train=6, seed=0)[0]
    truth = {t: {v: world.ground_truth(t, v) for v in vids} for t, vids in split.test.items()}
    return crosstask_recall(truth, labels).mean


def _fit(world: CrossTaskData, *, related: bool = True, constraints: str = "penalty", **kw):
    split = make_splits(world, n_splits=1, n_train=6, seed=0)[0]
    train = training_set(world, split, related=related)
    videos = build_training_videos(
        world, train, constraints=constraints, supervised=kw.get("supervised", False)
    )
    params = {**FAST, **kw}
    learner = StepLearner(constraints=constraints, **params)
    learner.fit(videos, {t: world.task(t).steps for t in train})
    labels, _ = predict_videos(learner.model_, world, split.test)
    return learner, labels, split


def test_planted_world_supervised_and_weak_find_the_steps(world: CrossTaskData) -> None:
    split = make_splits(world, n_splits=1, n_train=6, seed=0)[0]
    uniform = {
        t: {v: uniform_assignment(*world.ground_truth(t, v).shape) for v in vids}
        for t, vids in split.test.items()
    }
    u = _recall(world, uniform)
    _, sup, _ = _fit(world, share="task", related=False, supervised=True)
    _, weak, _ = _fit(world, share="component")
    _, task, _ = _fit(world, share="task", related=False)
    assert u < 0.5
    assert _recall(world, sup) > 0.9
    assert _recall(world, weak) > 0.8
    assert _recall(world, task) > u + 0.2


def test_reference_engine_is_the_authors_loop(world: CrossTaskData) -> None:
    learner, labels, _ = _fit(
        world, share="component", batch_videos=1, a14="autograd", epochs_init=2, epochs=2
    )
    assert learner.engine_ == "reference"
    assert [h["phase"] for h in learner.history_] == ["init", "init", "alternate", "alternate"]
    assert _recall(world, labels) > 0.5


def test_numpy_and_torch_backends_agree(world: CrossTaskData) -> None:
    a, _, _ = _fit(world, share="component", dropout=0.0, backend="numpy")
    b, _, _ = _fit(world, share="component", dropout=0.0, backend="torch")
    np.testing.assert_allclose(a.model_.weight, b.model_.weight, rtol=1e-3, atol=1e-4)
    same = np.mean([(a.labels_[key] == b.labels_[key]).mean() for key in a.labels_])
    assert same > 0.95


def test_training_is_deterministic(world: CrossTaskData) -> None:
    a, _, _ = _fit(world, share="component")
    b, _, _ = _fit(world, share="component")
    assert np.array_equal(a.model_.weight, b.model_.weight)
    c, _, _ = _fit(world, share="component", random_state=1)
    assert not np.array_equal(a.model_.weight, c.model_.weight)


class _Interrupt(Exception):
    pass


def test_resume_after_interruption_equals_uninterrupted(
    world: CrossTaskData, tmp_path: Path
) -> None:
    split = make_splits(world, n_splits=1, n_train=6, seed=0)[0]
    train = training_set(world, split, related=True)
    videos = build_training_videos(world, train)
    tasks = {t: world.task(t).steps for t in train}
    whole = StepLearner(**FAST).fit(videos, tasks)

    def stop_after(n: int):
        def progress(done: int, total: int) -> None:
            if done == n:
                raise _Interrupt

        return progress

    ckpt = tmp_path / "ckpt.pt"
    for stop in (2, 7):  # once during initialisation, once during alternation
        with pytest.raises(_Interrupt):
            StepLearner(**FAST, checkpoint=ckpt, progress=stop_after(stop)).fit(videos, tasks)
    resumed = StepLearner(**FAST, checkpoint=ckpt).fit(videos, tasks)
    assert resumed.resumed_from_ == 7
    assert np.array_equal(resumed.model_.weight, whole.model_.weight)
    assert np.array_equal(resumed.model_.bias, whole.model_.bias)
    assert all(np.array_equal(resumed.labels_[k], whole.labels_[k]) for k in whole.labels_)
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in whole.history_]
    with pytest.raises(ValueError, match="other settings"):
        StepLearner(**{**FAST, "lr": 1e-2}, checkpoint=ckpt).fit(videos, tasks)


def test_hard_constraints_never_label_outside_the_intervals(world: CrossTaskData) -> None:
    hard, _, _ = _fit(world, share="component", constraints="hard", epochs=3)
    assert all(h["outside"] == 0 for h in hard.history_)
    videos = {(v.task_id, v.video_id): v for v in build_training_videos(world, world.videos)}
    for key, rows in hard.labels_.items():
        allowed = videos[key].allowed
        assert allowed[rows, np.arange(len(rows))].all()
    none, _, _ = _fit(world, share="component", constraints="none", epochs=3)
    assert none.history_[-1]["outside"] == 0  # not counted: no constraint was read


def test_penalty_constraints_rarely_violated_and_none_differs(world: CrossTaskData) -> None:
    pen, _, _ = _fit(world, share="component", constraints="penalty")
    assert pen.history_[-1]["outside"] < 0.01
    free, _, _ = _fit(world, share="component", constraints="none")
    assert not np.array_equal(pen.model_.weight, free.model_.weight)


def test_bad_parameters_are_clear_errors(world: CrossTaskData) -> None:
    videos = build_training_videos(world, {"10": world.videos["10"][:3]})
    tasks = {"10": world.task("10").steps}
    with pytest.raises(ValueError, match="share must be"):
        StepLearner(share="words").fit(videos, tasks)
    with pytest.raises(ValueError, match="constraints must be"):
        StepLearner(constraints="soft").fit(videos, tasks)
    with pytest.raises(ValueError, match="dropout"):
        StepLearner(dropout=1.0).fit(videos, tasks)
    with pytest.raises(ValueError, match="no training video"):
        StepLearner().fit([], tasks)
    with pytest.raises(ValueError, match="without a step list"):
        StepLearner().fit(videos, {})
    with pytest.raises(ValueError, match="ground truth"):
        StepLearner(supervised=True).fit(videos, tasks)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StepLearner(epochs_init=1, epochs=1).fit(videos, tasks)  # no spurious warning


# --------------------------------------------------------------------------------------------
# Hand-built videos: infeasible hard constraints, step-count checks, the supervised θ-step

STEPS3 = ("pour milk", "whisk egg", "add sugar")


def _interval_mask(n_frames: int, intervals: list[tuple[int, int]]) -> np.ndarray:
    """(T, K) uint8 ``allowed`` mask: 1 in [start, end) of each step's interval."""
    allowed = np.zeros((n_frames, len(intervals)), np.uint8)
    for k, (start, end) in enumerate(intervals):
        allowed[start:end, k] = 1
    return allowed


def _video(tmp: Path, task_id: str, vid: str, n_frames: int, n_steps: int, allowed=None, seed=0):
    x = np.random.default_rng([seed, n_frames]).standard_normal((n_frames, 8)).astype(np.float32)
    np.save(tmp / f"{vid}.npy", x)
    return TrainVideo(task_id, vid, tmp / f"{vid}.npy", n_frames, n_steps, allowed)


def _infeasible_videos(tmp: Path) -> list[TrainVideo]:
    """Five videos whose step 3 interval lies before step 2's (no ordered labelling inside the
    intervals: at least one label must be outside) and one feasible video."""
    videos = [
        _video(tmp, "10", f"bad{i}", 30, 3, _interval_mask(30, [(0, 3), (15, 18), (5, 8)]), i)
        for i in range(5)
    ]
    videos.append(_video(tmp, "10", "good", 30, 3, _interval_mask(30, [(0, 3), (8, 11), (20, 23)])))
    return videos


def _violations(learner: StepLearner, videos: list[TrainVideo]) -> dict[str, int]:
    out = {}
    for v in videos:
        rows = learner.labels_[(v.task_id, v.video_id)]
        out[v.video_id] = int((v.allowed[rows, np.arange(v.n_steps)] == 0).sum())
    return out


@pytest.mark.parametrize(
    "engine",
    [
        {"batch_videos": 1, "a14": "autograd"},  # reference
        {"batch_videos": 3, "backend": "numpy"},
        {"batch_videos": 3, "backend": "torch"},
    ],
    ids=["reference", "fast-numpy", "fast-torch"],
)
def test_hard_constraints_infeasible_videos_fall_back_to_the_penalty(
    tmp_path: Path, engine: dict
) -> None:
    """Every engine puts the λ penalty on a video whose intervals admit no ordered labelling:
    the Y-updates keep all its labels inside the intervals but the one the ordering forbids
    (random features, so without λ the labels would land anywhere); feasible videos stay
    strictly inside."""
    videos = _infeasible_videos(tmp_path)
    learner = StepLearner(
        constraints="hard", epochs_init=1, epochs=3, lr=0.05, random_state=0, **engine
    )
    with pytest.warns(UserWarning, match="5 video"):
        learner.fit(videos, {"10": STEPS3})
    assert learner.engine_ == ("reference" if engine["batch_videos"] == 1 else "fast")
    assert learner.history_[-1]["phase"] == "alternate"
    assert _violations(learner, videos) == {**{f"bad{i}": 1 for i in range(5)}, "good": 0}


def test_hard_constraints_warning_points_at_the_callers_line(tmp_path: Path) -> None:
    videos = _infeasible_videos(tmp_path)
    learner = StepLearner(constraints="hard", epochs_init=1, epochs=0)
    with pytest.warns(UserWarning, match="no ordered labelling") as record:
        learner.fit(videos, {"10": STEPS3})
    (warning,) = [w for w in record if "no ordered labelling" in str(w.message)]
    assert Path(warning.filename).resolve() == Path(__file__).resolve()


def test_every_task_is_checked_for_its_number_of_steps(tmp_path: Path) -> None:
    tasks = {"10": STEPS3, "20": ("pour water", "add salt")}
    good = [_video(tmp_path, "10", "a", 20, 3), _video(tmp_path, "20", "b", 20, 2)]
    # A video of the second task disagrees (the first task's videos are consistent).
    odd = _video(tmp_path, "20", "odd", 20, 3)
    with pytest.raises(ValueError, match=r"task '20'.*video 'odd'.*3 steps"):
        StepLearner(epochs_init=1, epochs=0).fit([*good, odd], tasks)
    # Videos that agree with each other but not with their task's step list.
    with pytest.raises(ValueError, match=r"task '20'.*video 'odd'.*3 steps.*2"):
        StepLearner(epochs_init=1, epochs=0).fit([good[0], odd], tasks)
    StepLearner(epochs_init=1, epochs=0).fit(good, tasks)  # consistent: trains


def test_supervised_training_never_uses_the_reference_engine(world: CrossTaskData) -> None:
    """The reference engine's settings with ``supervised``: the fast engine's θ-steps (the
    supervised topline has no Y-update, so the authors' loop never applies)."""
    learner, _, _ = _fit(
        world, share="task", related=False, supervised=True, batch_videos=1, a14="autograd",
        epochs_init=1, epochs=1,
    )  # fmt: skip
    assert learner.engine_ == "fast"
    assert learner.get_params()["engine"] == "fast"
    assert [h["phase"] for h in learner.history_] == ["supervised", "supervised"]
