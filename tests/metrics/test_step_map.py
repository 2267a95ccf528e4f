import json
import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from instructvid.metrics.step_map import step_map


def _hand_case():
    # Task "T", K=2, two videos.
    y_t = {
        "v1": np.array([[1, 0], [0, 0], [0, 1]]),
        "v2": np.array([[0, 0], [1, 0]]),
    }
    s_t = {
        "v1": np.array([[0.9, 0.2], [0.5, 0.8], [0.1, 0.9]]),
        "v2": np.array([[0.95, 0.6], [0.3, 0.1]]),
    }
    # Task "U", K=3, one video; step 2 never occurs.
    y_u = {"u1": np.array([[1, 0, 0], [0, 1, 0]])}
    s_u = {"u1": np.array([[0.1, 0.8, 0.4], [0.9, 0.3, 0.6]])}
    return {"T": y_t, "U": y_u}, {"T": s_t, "U": s_u}


def test_hand_computed():
    y_true, scores = _hand_case()
    res = step_map(y_true, scores)
    # T step 0: ranked 0.95(-) 0.9(+) 0.5(-) 0.3(+) 0.1(-): AP = (1/2 + 2/4) / 2 = 0.5
    # T step 1: ranked 0.9(+) first: AP = 1
    # U step 0: ranked 0.9(-) 0.1(+): AP = 1/2
    # U step 1: ranked 0.8(-) 0.3(+): AP = 1/2
    # U step 2: no positive -> skipped (NaN), not counted as 0.
    assert res.per_step["T"] == pytest.approx([0.5, 1.0])
    assert res.per_step["U"][:2] == pytest.approx([0.5, 0.5])
    assert math.isnan(res.per_step["U"][2])
    assert res.per_task == pytest.approx({"T": 0.75, "U": 0.5})
    assert res.mean == pytest.approx(0.625)
    assert res.n_videos == 3


def test_perfect_scores_give_one():
    rng = np.random.default_rng(3)
    y_true, scores = {}, {}
    for task in ("a", "b"):
        y_true[task], scores[task] = {}, {}
        for v in range(3):
            y = (rng.random((20, 4)) < 0.3).astype(int)
            y_true[task][f"v{v}"] = y
            scores[task][f"v{v}"] = y + 0.1 * rng.random(y.shape)  # positives always higher
    res = step_map(y_true, scores)
    assert res.mean == 1.0
    assert all(v == 1.0 for v in res.per_task.values())


def test_matches_direct_sklearn_computation():
    rng = np.random.default_rng(7)
    y_true, scores = {}, {}
    for t in range(4):
        K = int(rng.integers(2, 7))
        task = f"task{t}"
        y_true[task], scores[task] = {}, {}
        for v in range(int(rng.integers(1, 5))):
            T = int(rng.integers(5, 30))
            y = (rng.random((T, K)) < 0.2).astype(np.uint8)
            y[:, -1] = 0  # last step never occurs -> must be skipped
            y_true[task][f"v{v}"] = y
            # Coarse scores -> many ties across videos.
            scores[task][f"v{v}"] = np.round(rng.random((T, K)) + 0.3 * y, 1)
        y_true[task]["v0"][0, 0] = 1
    res = step_map(y_true, scores)

    task_maps = {}
    for task in y_true:
        vids = sorted(y_true[task])
        y_all = np.concatenate([y_true[task][v] for v in vids])
        s_all = np.concatenate([scores[task][v] for v in vids])
        aps = [
            average_precision_score(y_all[:, k], s_all[:, k])
            for k in range(y_all.shape[1])
            if y_all[:, k].any()
        ]
        task_maps[task] = float(np.mean(aps))
        assert math.isnan(res.per_step[task][-1])
    assert res.per_task == pytest.approx(task_maps, abs=1e-12)
    assert res.mean == pytest.approx(np.mean(list(task_maps.values())), abs=1e-12)


def test_scores_ranked_across_videos():
    # Per-video perfect rankings that are not comparable across videos: the
    # pooled AP is below 1 (a per-video AP averaged would give 1).
    y_true = {"T": {"a": np.array([[1], [0]]), "b": np.array([[1], [0]])}}
    scores = {"T": {"a": np.array([[0.9], [0.8]]), "b": np.array([[0.2], [0.1]])}}
    # Ranked 0.9(+) 0.8(-) 0.2(+) 0.1(-): AP = (1 + 2/3) / 2.
    assert step_map(y_true, scores).mean == pytest.approx(5 / 6)


def test_intersection_of_videos():
    y_true, scores = _hand_case()
    scores["T"]["extra"] = np.zeros((4, 2))
    scores["Z"] = {"z": np.zeros((2, 2))}
    y_true["U"]["no_scores"] = np.ones((2, 3))
    res = step_map(y_true, scores)
    assert res.per_task == pytest.approx({"T": 0.75, "U": 0.5})
    assert res.n_videos == 3


def test_task_without_positives_warns_and_is_left_out():
    y_true, scores = _hand_case()
    y_true["E"] = {"e": np.zeros((3, 2))}
    scores["E"] = {"e": np.zeros((3, 2))}
    with pytest.warns(UserWarning, match="'E'"):
        res = step_map(y_true, scores)
    assert "E" not in res.per_task
    assert res.mean == pytest.approx(0.625)


def test_shape_mismatch_raises():
    y_true, scores = _hand_case()
    scores["T"]["v2"] = np.zeros((2, 3))
    with pytest.raises(ValueError) as err:
        step_map(y_true, scores)
    msg = str(err.value)
    assert "'T'" in msg and "'v2'" in msg and "(2, 2)" in msg and "(2, 3)" in msg


def test_inconsistent_step_count_within_task_raises():
    y_true = {"T": {"a": np.eye(2), "b": np.eye(3)}}
    scores = {"T": {"a": np.eye(2), "b": np.eye(3)}}
    with pytest.raises(ValueError, match="steps"):
        step_map(y_true, scores)


def test_nan_scores_raise():
    y_true, scores = _hand_case()
    scores["U"]["u1"] = scores["U"]["u1"].copy()
    scores["U"]["u1"][0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        step_map(y_true, scores)


def test_to_json():
    y_true, scores = _hand_case()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = step_map(y_true, scores).to_json("ours")
    assert set(out) == {"metric", "per_task", "mean", "n_videos", "method"}
    assert out["metric"] == "map" and out["method"] == "ours" and out["n_videos"] == 3
    assert out["per_task"] == pytest.approx({"T": 0.75, "U": 0.5})
    assert out["mean"] == pytest.approx(0.625)
    assert json.loads(json.dumps(out)) == out
