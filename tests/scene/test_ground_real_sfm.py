"""Grounding through real structure from motion, end to end through the CLI.

A small ``--sfm-ready``-style world (1 scene, 2 videos, 192 × 144 textured frames at 2 fps) →
``scene reconstruct`` of the MP4s (frames sampled by time) → ``scene align`` → ``scene ground``
→ ``scene evaluate --gt-cameras``. Checks that the sampled frames are matched to the true cameras,
that the cameras agree with them within a few cm, that narration grounded during a dwell lands
near the dwelled object, and that the queries beat chance. No oracle reconstruction is written.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("pycolmap")

from instructvid.cli.main import app
from instructvid.scene.ground_eval import camera_fit
from instructvid.synth.grounding import generate_grounding

runner = CliRunner()

WORLD = dict(
    scenes=1,
    videos=2,
    objects_per_task=4,
    dwell_s=3.0,
    fps=2.0,
    width=192,
    height=144,
    surface_points=60_000,
    texture=0.6,
)


def _cli(*args: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def grounded(tmp_path_factory):
    root = tmp_path_factory.mktemp("real_sfm")
    world = root / "world"
    generate_grounding(world, seed=0, write_recon=False, **WORLD)
    scene = root / "sfm" / "car_0"
    videos = sorted(str(p) for p in (world / "car_0" / "videos").glob("*.mp4"))
    _cli("scene", "reconstruct", *videos, "--out", str(scene), "--frames", "30",
         "--sampling", "uniform", "--workers", "1")  # fmt: skip
    _cli("scene", "align", str(scene), "--out", str(scene / "graph.json"))
    run = root / "run"
    _cli("scene", "ground", str(scene), "--subtitles", str(world), "--out", str(run),
         "--text", "tfidf", "--epochs", "40", "--batch-size", "16", "--n-voxels", "200")  # fmt: skip
    _cli("scene", "evaluate", str(run), "--objects", str(world / "objects.json"),
         "--queries", str(world / "queries.csv"), "--out", str(root / "eval"),
         "--gt-cameras", str(world))  # fmt: skip
    return world, scene, run, json.loads((root / "eval" / "pck.json").read_text())


def test_sampled_frames_match_the_true_cameras(grounded):
    _world, scene, _run, pck = grounded
    report = json.loads((scene / "reconstruct.json").read_text())["inputs"]
    assert set(report) == {"car_0_v00", "car_0_v01"}
    # every video gives a model holding most of its sampled frames
    assert all(s["models"] and s["models"][0]["images"] >= 15 for s in report.values())
    graph = json.loads((scene / "graph.json").read_text())
    assert {m.split("/")[0] for m in graph["to_reference"]} == {"car_0_v00", "car_0_v01"}
    cams = pck["cameras"]["car_0"]
    # the registered frames of the aligned models are named after their time, all found among
    # the true cameras
    registered = sum(
        m["images"]
        for s in report.values()
        for m in s["models"]
        if m["id"] in graph["to_reference"]
    )
    assert cams["unmatched"] == 0 and cams["frames"] == registered
    assert cams["fit_on"] == "reference"
    assert cams["median_cm"] < 5.0 and cams["max_cm"] < 15.0


def test_narration_during_a_dwell_lands_near_its_object(grounded):
    world, _scene, run, _pck = grounded
    sim, _fit = camera_fit(run, "car_0", world)
    objects = json.loads((world / "objects.json").read_text())["car_0"]
    truth = json.loads((world / "car_0" / "cameras.json").read_text())["videos"]
    errors = []
    for p in json.loads((run / "pairs" / "car_0.json").read_text()):
        dwell = [d for d in truth[p["video"]]["dwell"] if d["start"] <= p["time"] <= d["end"]]
        if dwell:
            point = sim.inverse()(np.asarray(p["point"]))  # reference frame → world, metres
            errors.append(np.linalg.norm(point - np.asarray(objects[dwell[0]["object"]])))
    # the frame centre looks at the object (±1.5 cm), the ray hits its top: within 15 cm
    assert len(errors) >= 3 and np.mean(np.asarray(errors) < 0.15) >= 0.75


def test_queries_beat_chance_through_real_sfm(grounded):
    _world, _scene, _run, pck = grounded
    assert pck["queries"] == 12
    assert pck["mean"] > pck["chance"]["mean"]
