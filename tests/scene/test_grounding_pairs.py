"""Voxels, back-projection, segments and pairs of the 3D grounding (thesis §5.4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instructvid.metrics.pck import chance_pck_curve, pck_curve
from instructvid.scene.grounding import (
    Frame,
    GroundConf,
    SceneModels,
    Segment,
    VideoModel,
    attach_frames,
    back_project,
    build_pairs,
    center_point,
    frame_time,
    hand_points,
)
from instructvid.scene.similarity import Similarity
from instructvid.scene.voxels import VoxelGrid, top_cells
from instructvid.synth.scene import look_at


def _frame(eye, target, name="t000001.000.jpg", f=100.0, w=160, h=120) -> Frame:
    rot, trans = look_at(np.asarray(eye, float), np.asarray(target, float))
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])
    return Frame(name, frame_time(name), k, rot, trans, w, h)


def test_frame_time_parses_registered_names():
    assert frame_time("t000123.450.jpg") == pytest.approx(123.45)
    assert frame_time("0003.jpg") is None


def test_planted_point_back_projects_into_its_voxel():
    rng = np.random.default_rng(0)
    floor = np.c_[rng.uniform(-1, 1, (4000, 2)), np.zeros(4000)]
    box_top = np.c_[rng.uniform(0.25, 0.45, (800, 2)), np.full(800, 0.3)]  # occludes the floor
    points = np.concatenate([floor, box_top])
    planted = np.array([0.35, 0.35, 0.3])  # mid-cell in x and y
    frame = _frame([0.3, -0.2, 1.5], planted)
    # the frame centre looks at the planted point: the hit is on the box top, not the floor below
    hit = back_project(center_point(None, frame, None), frame, points, radius_px=2)
    assert hit is not None and hit[2] == pytest.approx(0.3)
    assert np.linalg.norm(hit - planted) < 2 * 1.6 / 100  # r px at 1.6 m, f = 100 px
    # in a model frame of its own, mapped back by the graph's similarity
    sim = Similarity(2.5, look_at(np.array([1.0, 2, 3]), np.zeros(3))[0], np.array([4.0, -1, 2]))
    model_pts = sim.inverse()(points)
    rot_m = frame.R @ sim.R  # cam_from_model for x_world = sim(x_model)
    frame_m = Frame(
        frame.name, frame.time, frame.K, rot_m, (frame.R @ sim.t + frame.t) / sim.scale, 160, 120
    )
    scene = SceneModels("s", "v/0", [VideoModel("v", "v/0", [frame_m], model_pts, sim)])
    pairs, counts = build_pairs(
        scene, {"v": [Segment("v", "remove it", 0.5, 1.5)]}, center_point, GroundConf(radius_px=2)
    )
    assert counts.pairs == 1 and len(pairs) == 1
    p = np.asarray(pairs[0].point)
    grid = VoxelGrid.fit(points, p[None, :], grid=20, n_voxels=5)
    assert grid.voxel_of(p[None, :])[0] == 0
    assert grid.cell_of(p[None, :])[0] == grid.cell_of(planted[None, :])[0]


def test_no_hit_and_no_frame_are_counted():
    frame = _frame([0, -0.1, 2], [0, 0, 0], name="t000010.000.jpg")
    pts = np.array([[5.0, 5.0, 0.0]])  # outside the view
    scene = SceneModels("s", "v/0", [VideoModel("v", "v/0", [frame], pts, Similarity.identity())])
    segs = {"v": [Segment("v", "a", 9.5, 10.5), Segment("v", "b", 30, 31)], "w": []}
    pairs, counts = build_pairs(scene, segs, center_point, GroundConf())
    assert pairs == [] and counts.segments == 2 and counts.no_frame == 1 and counts.no_hit == 1


def test_hand_points_read_the_cue_and_skip_absent_hands():
    frame = _frame([0, -0.1, 2], [0, 0, 0], name="t000002.400.jpg")
    hands = {"v": np.array([[0.9, 0.1, 0.1], [0.9, 0.1, 0.1], [0.8, 0.25, 0.75], [0.1, 0.5, 0.5]])}
    model = VideoModel("v", "v/0", [frame], np.zeros((0, 3)), Similarity.identity())
    src = hand_points(hands, 0.5)
    assert src(None, frame, model) == pytest.approx((40.0, 90.0))
    late = _frame([0, -0.1, 2], [0, 0, 0], name="t000003.100.jpg")
    assert src(None, late, model) is None


def test_attach_frames_nearest_within_gap_and_every_frame():
    times = np.array([0.0, 1.0, 2.0, 3.0, np.nan])
    assert attach_frames(Segment("v", "x", 1.2, 2.0), times) == [2]
    assert attach_frames(Segment("v", "x", 10, 11), times) == []
    assert attach_frames(Segment("v", "x", 0.5, 2.5), times, every_frame=True) == [1, 2]


def test_top_cells_on_a_hand_made_case():
    ids = np.array([7, 3, 3, 9, 9, 9, -1, 7, 5])
    assert top_cells(ids, 2).tolist() == [9, 3]  # 9 ×3; 3 and 7 ×2: the smaller id wins the tie
    assert top_cells(ids, 10).tolist() == [9, 3, 7, 5]


def test_voxel_grid_centres_and_membership():
    grid = VoxelGrid(np.zeros(3), np.full(3, 2.0), 2, np.array([0, 7]))
    assert grid.centres().tolist() == [[0.5, 0.5, 0.5], [1.5, 1.5, 1.5]]
    pts = np.array([[0.2, 0.9, 0.1], [1.9, 1.1, 1.5], [1.9, 0.1, 0.1], [3, 0, 0]])
    assert grid.voxel_of(pts).tolist() == [0, 1, -1, -1]
    assert grid.cell_of(pts).tolist() == [0, 7, 4, -1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.floats(-5, 5)] * 3), min_size=1, max_size=40), st.integers(1, 6))
def test_cell_of_matches_brute_force(points, grid):
    pts = np.asarray(points, float)
    g = VoxelGrid.fit(pts, pts, grid=grid, n_voxels=grid**3)
    for p, c in zip(pts, g.cell_of(pts), strict=True):
        centre = g.cell_centres(np.array([c]))[0]
        assert np.all(np.abs(p - centre) <= g.size / 2 + 1e-9)
    assert set(g.voxel_of(pts).tolist()) <= set(range(g.n_voxels))


def test_pck_on_a_hand_made_case():
    errors_cm = np.array([0.5, 10, 29.9, 30, 31, np.inf])
    assert pck_curve(errors_cm, [1, 30, 100]).tolist() == pytest.approx([1 / 6, 4 / 6, 5 / 6])


def test_chance_expectation_equals_monte_carlo():
    rng = np.random.default_rng(3)
    pts = rng.normal(0, 0.4, (3000, 3))
    target = np.array([0.1, 0.0, -0.2])
    taus = [0.1, 0.3, 0.6]
    exact = chance_pck_curve(pts, target, taus)
    draws = pts[rng.integers(0, len(pts), 200_000)]
    mc = pck_curve(np.linalg.norm(draws - target, axis=1), taus)
    assert np.allclose(exact, mc, atol=0.005)
    assert 0 < exact[0] < exact[1] < exact[2] < 1


def test_overlay_draws_the_top_voxel_red_and_the_object_green():
    from instructvid.scene.ground_overlay import draw_overlay, to_video_frame

    sim = Similarity(0.5, np.eye(3), np.array([1.0, 0.0, 0.0]))  # x_ref = 0.5 x_model + (1, 0, 0)
    frame_w = _frame([0, -0.1, 2], [0, 0, 0])  # the camera of the model frame
    model = VideoModel("v", "v/0", [frame_w], np.zeros((0, 3)), sim)
    assert np.allclose(to_video_frame(sim(np.array([0.2, 0.3, 0.4])), model), [0.2, 0.3, 0.4])
    centres = sim(np.array([[0.0, 0.0, 0.0], [0.4, 0.3, 0.0]]))
    image = np.zeros((120, 160, 3), np.uint8)
    out = draw_overlay(
        image, frame_w, model, centres, np.array([1.0, 0.0]), 0.05, object_ref=centres[1]
    )
    cam = np.array([0.0, 0.0, 0.0]) @ frame_w.R.T + frame_w.t
    u, v = (frame_w.K @ (cam / cam[2]))[:2]
    assert out[int(v), int(u), 0] > 150 and out[int(v), int(u), 1] == 0  # red, strong
    cam2 = np.array([0.4, 0.3, 0.0]) @ frame_w.R.T + frame_w.t
    u2, v2 = (frame_w.K @ (cam2 / cam2[2]))[:2]
    assert out[int(v2), int(u2), 1] == 255 and out[int(v2), int(u2), 0] == 0  # the object, green
