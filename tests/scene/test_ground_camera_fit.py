"""``scene evaluate --gt-cameras``: the world → reference fit on a run's registered frames."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instructvid.scene.ground_eval import camera_fit
from instructvid.scene.similarity import Similarity
from instructvid.synth.grounding_recon import random_similarity


def _world_cameras(rng, times):
    """Ground-truth frames at ``times``: centres on a curve around the origin, any rotation."""
    from scipy.spatial.transform import Rotation

    frames = []
    for t in times:
        centre = np.array([np.cos(t), np.sin(0.7 * t), 0.5 + 0.1 * t]) + rng.normal(0, 0.05, 3)
        rot = Rotation.random(random_state=int(rng.integers(2**31))).as_matrix()
        frames.append(
            {"time": t, "K": np.eye(3).tolist(), "R": rot.tolist(), "t": (-rot @ centre).tolist()}
        )
    return frames


def _write(tmp_path, ours, truth):
    gt = tmp_path / "gt"
    (gt / "car_0").mkdir(parents=True)
    (gt / "car_0" / "cameras.json").write_text(json.dumps({"videos": truth}))
    run = tmp_path / "run"
    (run / "scenes" / "car_0").mkdir(parents=True)
    (run / "scenes" / "car_0" / "cameras.json").write_text(json.dumps(ours))
    return run, gt


def _centre(frame) -> np.ndarray:
    return -np.asarray(frame["R"]).T @ np.asarray(frame["t"])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), shift_cm=st.floats(5.0, 80.0))
def test_fit_on_the_reference_is_exact_and_residuals_show_a_misaligned_video(
    tmp_path_factory, seed, shift_cm
):
    tmp_path = tmp_path_factory.mktemp("fit")
    rng = np.random.default_rng(seed)
    times = [round(0.25 * i, 3) for i in range(12)]
    truth = {v: {"frames": _world_cameras(rng, times)} for v in ("car_0_v00", "car_0_v01")}
    to_ref = random_similarity(rng)  # x_ref = S(x_world)
    shift = rng.normal(size=3)
    shift *= shift_cm / 100.0 / np.linalg.norm(shift)  # metres, in the world
    frames = []
    # sampled frames only (every other one), as scene reconstruct keeps them; named by time
    for video, model, offset in (
        ("car_0_v00", "car_0_v00/0", 0.0),
        ("car_0_v01", "car_0_v01/0", 1.0),
    ):
        for g in truth[video]["frames"][::2]:
            centre = to_ref(_centre(g) + offset * shift)  # v01's model is aligned wrongly
            frames.append(
                {
                    "video": video,
                    "model": model,
                    "time": g["time"] + 4e-4,
                    "centre": centre.tolist(),
                }
            )
    frames.append({"video": "car_0_v00", "model": "car_0_v00/0", "time": 0.1, "centre": [0, 0, 0]})
    frames.append({"video": "car_0_v00", "model": "car_0_v00/0", "time": None, "centre": [0, 0, 0]})
    run, gt = _write(tmp_path, {"reference": "car_0_v00/0", "frames": frames}, truth)
    sim, fit = camera_fit(run, "car_0", gt)
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(sim(x), to_ref(x), atol=1e-6 * max(1.0, to_ref.scale))
    assert fit["fit_on"] == "reference" and fit["frames"] == 12 and fit["unmatched"] == 2
    assert fit["per_video"]["car_0_v00"]["rms_cm"] == pytest.approx(0.0, abs=1e-4)
    assert fit["per_video"]["car_0_v01"]["rms_cm"] == pytest.approx(shift_cm, rel=1e-6)
    assert fit["max_cm"] == pytest.approx(shift_cm, rel=1e-6)
    assert fit["per_model"]["car_0_v01/0"]["rms_cm"] == pytest.approx(shift_cm, rel=1e-6)
    assert fit["per_model"]["car_0_v00/0"]["frames"] == 6


def test_without_model_names_every_frame_is_fitted(tmp_path):
    rng = np.random.default_rng(3)
    times = [0.5 * i for i in range(8)]
    truth = {"a": {"frames": _world_cameras(rng, times)}}
    to_ref = Similarity(2.0, np.eye(3), np.array([1.0, 0.0, 0.0]))
    frames = [
        {"video": "a", "time": g["time"], "centre": to_ref(_centre(g)).tolist()}
        for g in truth["a"]["frames"]
    ]
    run, gt = _write(tmp_path, {"reference": "a/0", "frames": frames}, truth)
    sim, fit = camera_fit(run, "car_0", gt)
    assert fit["fit_on"] == "all" and fit["frames"] == 8 and fit["rms_cm"] < 1e-6
    assert sim.scale == pytest.approx(2.0)


def test_no_matching_frame_is_a_clear_error(tmp_path):
    rng = np.random.default_rng(4)
    truth = {"a": {"frames": _world_cameras(rng, [0.0, 1.0, 2.0])}}
    frames = [{"video": "a", "model": "a/0", "time": 7.0, "centre": [0, 0, 0]}]
    run, gt = _write(tmp_path, {"reference": "a/0", "frames": frames}, truth)
    with pytest.raises(ValueError, match=r"cameras\.json: cannot fit"):
        camera_fit(run, "car_0", gt)
