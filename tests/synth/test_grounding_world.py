"""The synthetic grounding world: layout, narration, hands and the oracle reconstruction."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instructvid.scene.grounding import (
    GroundConf,
    build_pairs,
    center_point,
    load_scene,
    read_segments,
)
from instructvid.synth.grounding import OBJECTS, generate_grounding
from instructvid.synth.splat import solid_noise

SMALL = dict(
    scenes=1, videos=2, objects_per_task=3, fps=2.0, width=64, height=48, surface_points=6000
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    generate_grounding(out, seed=1, **SMALL)
    return out


def test_layout_and_held_out_queries(world):
    objects = json.loads((world / "objects.json").read_text())
    assert set(objects["car_0"]) == set(OBJECTS)
    for v in ("car_0_v00", "car_0_v01"):
        assert (world / "car_0" / "videos" / f"{v}.mp4").stat().st_size > 0
        hands = np.load(world / "car_0" / "hands" / f"{v}.npy")
        assert hands.ndim == 2 and hands.shape[1] == 3 and (hands >= 0).all() and (hands <= 1).all()
    spoken = " ".join(
        (world / "car_0" / "subtitles" / f"{v}.vtt").read_text() for v in ("car_0_v00", "car_0_v01")
    )
    with open(world / "queries.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["object"] for r in rows} == set(OBJECTS)
    assert all(r["query"] not in spoken for r in rows)


def test_same_seed_same_world(world, tmp_path):
    again = tmp_path / "again"
    generate_grounding(again, seed=1, **SMALL)
    for rel in ("objects.json", "car_0/subtitles/car_0_v01.vtt", "car_0/cameras.json"):
        assert (again / rel).read_bytes() == (world / rel).read_bytes()
    with pytest.raises(ValueError, match="other settings"):
        generate_grounding(again, seed=2, **SMALL)


def test_centre_pairs_land_near_the_dwelled_objects(world):
    scene = load_scene(world / "car_0" / "recon")
    assert scene.name == "car_0" and len(scene.models) == 2
    cams = json.loads((world / "car_0" / "cameras.json").read_text())["videos"]
    objects = {
        k: np.asarray(v)
        for k, v in json.loads((world / "objects.json").read_text())["car_0"].items()
    }
    segs = {v: read_segments(world / "car_0" / "subtitles" / f"{v}.vtt", v) for v in cams}
    pairs, counts = build_pairs(scene, segs, center_point, GroundConf())
    assert counts.pairs == len(pairs) > 3
    # the reference is the first video's model: map world → reference by its camera centres
    from instructvid.scene.similarity import umeyama

    ref_video = scene.models[0].video
    gt = {round(f["time"], 3): f for f in cams[ref_video]["frames"]}
    src, dst = [], []
    for video, t, centre in scene.camera_centres():
        if video == ref_video:
            f = gt[round(t, 3)]
            src.append(-np.asarray(f["R"]).T @ np.asarray(f["t"]))
            dst.append(centre)
    to_ref = umeyama(np.asarray(src), np.asarray(dst))
    errors = []  # metres from the object the camera dwells on, for pairs made during a dwell
    for p in pairs:
        dwell = [d for d in cams[p.video]["dwell"] if d["start"] <= p.time <= d["end"]]
        if dwell:
            world_point = to_ref.inverse()(np.asarray(p.point))
            errors.append(np.linalg.norm(world_point - objects[dwell[0]["object"]]))
    assert len(errors) >= 2 and np.mean(np.asarray(errors) < 0.15) >= 0.75


def test_world_written_before_the_texture_settings_is_resumed(world, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(world, old)
    data = json.loads((old / "world.json").read_text())
    for key in ("texture", "splat"):  # a world.json written before these settings existed
        data["settings"].pop(key)
    (old / "world.json").write_text(json.dumps(data))
    assert generate_grounding(old, seed=1, **SMALL) == old / "world.json"  # skipped, no error
    with pytest.raises(ValueError, match="other settings"):
        generate_grounding(old, seed=1, texture=0.5, **SMALL)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 40))
def test_solid_texture_depends_on_the_position_alone(seed, n):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1, 1, (n, 3))
    values = solid_noise(pts, seed)
    assert values.shape == (n,) and (np.abs(values) <= 1).all()
    order = rng.permutation(n)
    np.testing.assert_array_equal(solid_noise(pts[order], seed), values[order])  # any batch
    np.testing.assert_array_equal(solid_noise(pts[:1], seed), values[:1])
    # smooth: 0.1 mm moves it little (the finest cell is 15 mm); another seed is another texture
    assert np.abs(solid_noise(pts + 1e-4, seed) - values).max() < 0.05
    many = rng.uniform(-1, 1, (200, 3))
    assert not np.allclose(solid_noise(many, seed), solid_noise(many, seed + 1))
