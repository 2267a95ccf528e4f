import json
import warnings

import numpy as np
import pytest

from instructvid.metrics.recall import (
    RecallResult,
    crosstask_recall,
    mean_and_std_over_splits,
    video_recall_counts,
)


def _pred(T: int, K: int, seconds: list[int]) -> np.ndarray:
    """(T, K) prediction with step k predicted at second seconds[k]."""
    y = np.zeros((T, K), dtype=np.float32)
    y[seconds, np.arange(K)] = 1
    return y


def _two_by_two():
    """2 tasks x 2 videos; the expected counts are written out in the test."""
    # Task A, K=3.
    a1_true = np.array(
        [
            [1, 0, 0],
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 0],
        ]
    )  # step 2 absent
    a1_pred = _pred(4, 3, [1, 3, 0])  # step0 hit, step1 miss, step2 not counted
    a2_true = np.eye(3, dtype=int)
    a2_pred = _pred(3, 3, [0, 1, 0])  # hit, hit, miss
    # Task B, K=2.
    b1_true = np.array([[1, 0], [1, 0], [1, 0]])  # step 1 absent
    b1_pred = _pred(3, 2, [2, 0])  # hit, not counted
    b2_true = np.array([[1, 0], [0, 1]])
    b2_pred = _pred(2, 2, [1, 0])  # miss, miss
    y_true = {"A": {"a1": a1_true, "a2": a2_true}, "B": {"b1": b1_true, "b2": b2_true}}
    y_pred = {"A": {"a1": a1_pred, "a2": a2_pred}, "B": {"b1": b1_pred, "b2": b2_pred}}
    return y_true, y_pred


def _authors_get_recalls(Y_true, Y_pred):
    """Transcription of get_recalls from DmZhukov/CrossTask train.py."""
    step_match = {task: 0 for task in Y_true.keys()}
    step_total = {task: 0 for task in Y_true.keys()}
    for task, ys_true in Y_true.items():
        ys_pred = Y_pred[task]
        for vid in set(ys_pred.keys()).intersection(set(ys_true.keys())):
            y_true = ys_true[vid]
            y_pred = ys_pred[vid]
            step_total[task] += (y_true.sum(axis=0) > 0).sum()
            step_match[task] += (y_true * y_pred).sum()
    return {task: step_match[task] / n for task, n in step_total.items()}


def test_video_counts_hand_computed():
    y_true, y_pred = _two_by_two()
    assert video_recall_counts(y_true["A"]["a1"], y_pred["A"]["a1"]) == (1, 2)
    assert video_recall_counts(y_true["A"]["a2"], y_pred["A"]["a2"]) == (2, 3)
    assert video_recall_counts(y_true["B"]["b1"], y_pred["B"]["b1"]) == (1, 1)
    assert video_recall_counts(y_true["B"]["b2"], y_pred["B"]["b2"]) == (0, 2)


def test_crosstask_recall_hand_computed():
    y_true, y_pred = _two_by_two()
    res = crosstask_recall(y_true, y_pred)
    assert res.matched == {"A": 3, "B": 1}
    assert res.total == {"A": 5, "B": 3}
    assert res.per_task["A"] == pytest.approx(3 / 5)
    assert res.per_task["B"] == pytest.approx(1 / 3)
    # Unweighted mean over tasks: (3/5 + 1/3) / 2 = 7/15, not the pooled 4/8.
    assert res.mean == pytest.approx(7 / 15)
    assert res.n_videos == 4


def test_matches_authors_code_on_random_data():
    rng = np.random.default_rng(0)
    y_true, y_pred = {}, {}
    for task_i in range(5):
        K = int(rng.integers(2, 8))
        y_true[f"t{task_i}"], y_pred[f"t{task_i}"] = {}, {}
        for v in range(int(rng.integers(1, 6))):
            T = int(rng.integers(K, 40))
            yt = (rng.random((T, K)) < 0.15).astype(np.float32)
            y_true[f"t{task_i}"][f"v{v}"] = yt
            y_pred[f"t{task_i}"][f"v{v}"] = _pred(T, K, rng.integers(0, T, size=K).tolist())
        y_true[f"t{task_i}"]["v0"][0, 0] = 1  # at least one GT step per task
    res = crosstask_recall(y_true, y_pred)
    expected = _authors_get_recalls(y_true, y_pred)
    assert res.per_task == pytest.approx(expected)
    assert res.mean == pytest.approx(np.mean(list(expected.values())))


def test_only_videos_in_both_are_scored():
    y_true, y_pred = _two_by_two()
    # Extra predicted video and extra predicted task: ignored.
    y_pred["A"]["extra"] = _pred(5, 3, [0, 0, 0])
    y_pred["Z"] = {"z1": _pred(2, 1, [0])}
    res = crosstask_recall(y_true, y_pred)
    assert res.per_task == pytest.approx({"A": 3 / 5, "B": 1 / 3})
    assert res.n_videos == 4
    # A GT video without a prediction is not counted either.
    del y_pred["B"]["b2"]
    res = crosstask_recall(y_true, y_pred)
    assert res.total["B"] == 1 and res.matched["B"] == 1
    assert res.per_task["B"] == 1.0
    assert res.n_videos == 3


def test_mean_is_unweighted_over_tasks():
    # Task X: one video, one step, hit -> 1/1.
    # Task Y: three videos, one step each, all missed -> 0/3.
    hit_true = np.array([[1], [0]])
    y_true = {"X": {"x": hit_true}, "Y": {f"y{i}": np.array([[1], [0]]) for i in range(3)}}
    y_pred = {"X": {"x": _pred(2, 1, [0])}, "Y": {f"y{i}": _pred(2, 1, [1]) for i in range(3)}}
    res = crosstask_recall(y_true, y_pred)
    assert res.per_task == {"X": 1.0, "Y": 0.0}
    assert res.mean == 0.5  # pooled over steps it would be 1/4


def test_two_predictions_in_a_column_raise():
    y_true, y_pred = _two_by_two()
    bad = y_pred["B"]["b2"].copy()
    bad[:, 1] = 1  # step 1 predicted at both seconds
    y_pred["B"]["b2"] = bad
    with pytest.raises(ValueError, match="recall expects one predicted second per step") as err:
        crosstask_recall(y_true, y_pred)
    assert "b2" in str(err.value)


def test_no_prediction_for_a_step_is_a_miss():
    y_true = np.array([[1, 0], [0, 1]])
    y_pred = np.array([[1, 0], [0, 0]])  # step 1 not predicted at all
    assert video_recall_counts(y_true, y_pred) == (1, 2)


def test_shape_mismatch_raises_naming_video_and_shapes():
    y_true, y_pred = _two_by_two()
    y_pred["A"]["a2"] = _pred(4, 3, [0, 1, 2])  # GT is (3, 3)
    with pytest.raises(ValueError) as err:
        crosstask_recall(y_true, y_pred)
    msg = str(err.value)
    assert "'A'" in msg and "'a2'" in msg and "(3, 3)" in msg and "(4, 3)" in msg


def test_non_binary_values_raise():
    with pytest.raises(ValueError, match="0 and 1"):
        video_recall_counts(np.array([[2, 0], [0, 1]]), _pred(2, 2, [0, 1]))
    with pytest.raises(ValueError, match="0 and 1"):
        video_recall_counts(np.eye(2), np.array([[0.5, 0], [0, 1]]))


def test_task_without_gt_steps_is_left_out_with_warning():
    y_true, y_pred = _two_by_two()
    y_true["E"] = {"e1": np.zeros((3, 2))}
    y_pred["E"] = {"e1": _pred(3, 2, [0, 1])}
    with pytest.warns(UserWarning, match="'E'"):
        res = crosstask_recall(y_true, y_pred)
    assert "E" not in res.per_task
    assert res.matched["E"] == 0 and res.total["E"] == 0
    assert res.mean == pytest.approx(7 / 15)


def test_no_warning_in_normal_case():
    y_true, y_pred = _two_by_two()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        crosstask_recall(y_true, y_pred)


def test_to_json():
    y_true, y_pred = _two_by_two()
    out = crosstask_recall(y_true, y_pred).to_json("uniform")
    assert set(out) == {"metric", "per_task", "mean", "n_videos", "method"}
    assert out["metric"] == "recall"
    assert out["method"] == "uniform"
    assert out["n_videos"] == 4
    assert out["per_task"] == pytest.approx({"A": 0.6, "B": 1 / 3})
    assert out["mean"] == pytest.approx(7 / 15)
    assert json.loads(json.dumps(out)) == out  # plain JSON types only


def _result(per_task: dict[str, float]) -> RecallResult:
    return RecallResult(
        per_task=per_task,
        mean=float(np.mean(list(per_task.values()))),
        matched={},
        total={},
        n_videos=0,
    )


def test_mean_and_std_over_splits():
    r1 = _result({"A": 0.5, "B": 1.0})  # mean 0.75
    r2 = _result({"A": 0.7, "B": 0.4})  # mean 0.55
    out = mean_and_std_over_splits([r1, r2])
    assert out["n_splits"] == 2
    assert out["per_task"]["A"]["mean"] == pytest.approx(0.6)
    assert out["per_task"]["A"]["std"] == pytest.approx(0.1)  # ddof=0; ddof=1 gives 0.141
    assert out["per_task"]["B"]["mean"] == pytest.approx(0.7)
    assert out["per_task"]["B"]["std"] == pytest.approx(0.3)
    assert out["per_task"]["A"]["n_splits"] == 2
    assert out["mean"] == pytest.approx(0.65)
    assert out["std"] == pytest.approx(0.1)


def test_mean_and_std_over_splits_task_missing_in_a_split():
    r1 = _result({"A": 0.5, "C": 0.2})
    r2 = _result({"A": 0.7})
    out = mean_and_std_over_splits([r1, r2])
    assert out["per_task"]["C"] == {"mean": pytest.approx(0.2), "std": 0.0, "n_splits": 1}
    assert out["mean"] == pytest.approx((0.35 + 0.7) / 2)


def test_mean_and_std_over_splits_empty_raises():
    with pytest.raises(ValueError):
        mean_and_std_over_splits([])
