"""Known intrinsics (``--camera-model/--camera-params``, ``--refine-intrinsics/--fix-intrinsics``),
settings-aware resuming, and dropping models without 3D points.

One rendered video of 8 frames at 320 x 240 (its true K in ``scene.json``), reconstructed in a
few seconds; the COLMAP models written are read back to check the cameras.
"""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

pycolmap = pytest.importorskip("pycolmap")

from typer.testing import CliRunner  # noqa: E402

from instructvid.cli.main import app  # noqa: E402
from instructvid.scene.reconstruct import (  # noqa: E402
    SettingsMismatchError,
    load_models,
    reconstruct,
    reconstruct_input,
)
from instructvid.scene.sfm import (  # noqa: E402
    ReconstructConf,
    parse_camera_params,
    select_models,
)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """A folder of 8 rendered frames and its true SIMPLE_PINHOLE parameters (f, cx, cy)."""
    moderngl = pytest.importorskip("moderngl")
    try:
        moderngl.create_standalone_context(backend="egl").release()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"no headless EGL context for rendering: {exc}")
    from instructvid.synth.scene import render_scene

    root = tmp_path_factory.mktemp("intrinsics")
    scene = json.loads(
        render_scene(
            root / "scene",
            n_videos=1,
            n_frames=8,
            width=320,
            height=240,
            seed=1,
            arc_degrees=50.0,
            annotated_frames=2,
        ).read_text()
    )
    K = np.asarray(scene["videos"]["video_00"]["frames"][0]["K"])
    assert K[0, 0] == K[1, 1]
    return SimpleNamespace(
        root=root,
        folder=root / "scene" / "videos" / "video_00",
        true=(float(K[0, 0]), float(K[0, 2]), float(K[1, 2])),
    )


@pytest.fixture(scope="module")
def fixed(video):
    """The video reconstructed through the CLI with its known intrinsics (fixed by default)."""
    out = video.root / "fixed"
    params = ",".join(repr(x) for x in video.true)
    res = CliRunner().invoke(
        app,
        [
            "scene",
            "reconstruct",
            str(video.folder),
            "--out",
            str(out),
            "--single-camera",
            "--camera-model",
            "SIMPLE_PINHOLE",
            "--camera-params",
            params,
            "--workers",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    return SimpleNamespace(out=out, params=params)


def _camera(path):
    rec = pycolmap.Reconstruction(str(path))
    assert len(rec.cameras) == 1
    cam = next(iter(rec.cameras.values()))
    return cam.model.name, np.asarray(cam.params, np.float64), rec


def test_conf_resolves_refinement_and_checks_params():
    assert ReconstructConf().refines_intrinsics is True
    assert ReconstructConf(camera_params="1,2,3,0").refines_intrinsics is False
    assert ReconstructConf(camera_params="1,2,3,0", refine_intrinsics=True).refines_intrinsics
    assert parse_camera_params("PINHOLE", " 600, 601 ,320,240") == [600.0, 601.0, 320.0, 240.0]
    with pytest.raises(ValueError, match=r"expected 3 .*SIMPLE_PINHOLE \(f,cx,cy\), got 4"):
        ReconstructConf(camera_model="SIMPLE_PINHOLE", camera_params="1,2,3,4").check()
    with pytest.raises(ValueError, match="focal length f must be > 0"):
        parse_camera_params("SIMPLE_PINHOLE", "-5,2,3")
    with pytest.raises(ValueError, match="fixed intrinsics need known ones"):
        ReconstructConf(refine_intrinsics=False).check()


def test_known_intrinsics_are_kept_exactly_when_fixed(video, fixed):
    model, params, rec = _camera(fixed.out / "models" / "video_00" / "0")
    assert rec.num_reg_images() >= 6 and rec.num_points3D() > 200
    assert model == "SIMPLE_PINHOLE"
    assert np.array_equal(params, np.asarray(video.true))  # bit for bit
    s = json.loads((fixed.out / "reconstruct.json").read_text())["inputs"]["video_00"]
    settings = s["settings"]
    assert settings["camera_model"] == "SIMPLE_PINHOLE" and settings["refine_intrinsics"] is False
    assert parse_camera_params("SIMPLE_PINHOLE", settings["camera_params"]) == list(video.true)
    assert s["models"][0]["cameras"][0]["params"] == list(video.true)


def test_other_settings_are_refused_then_redone_and_refined(video, fixed, tmp_path):
    out = tmp_path / "rec"
    shutil.copytree(fixed.out, out)
    runner = CliRunner()
    # same settings: skipped; plain CLI (self-calibration) on that OUT: refused, nothing redone
    base = ["scene", "reconstruct", str(video.folder), "--out", str(out), "--single-camera"]
    known = ["--camera-model", "SIMPLE_PINHOLE", "--camera-params", fixed.params]
    res = runner.invoke(app, [*base, *known])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, base)
    assert res.exit_code == 2
    assert "other settings" in res.output and "camera_params" in res.output
    before = json.loads((out / "models" / "video_00" / "summary.json").read_text())
    # refined: a focal length 10 % off moves towards the truth; the principal point stays
    f, cx, cy = video.true
    conf = ReconstructConf(
        camera_model="SIMPLE_PINHOLE",
        camera_params=f"{1.1 * f},{cx},{cy}",
        refine_intrinsics=True,
        camera_mode="single",
    )
    with pytest.raises(SettingsMismatchError, match="refine_intrinsics: False -> True"):
        reconstruct([video.folder], out, conf, workers=1)
    reconstruct([video.folder], out, conf, workers=1, overwrite=True)
    after = json.loads((out / "models" / "video_00" / "summary.json").read_text())
    assert after["run_id"] != before["run_id"] and after["settings"]["refine_intrinsics"] is True
    assert load_models(out)[0].run_id == after["run_id"]
    _, params, _ = _camera(out / "models" / "video_00" / "0")
    assert params[0] != 1.1 * f
    assert abs(params[0] - f) < 0.5 * abs(1.1 * f - f), (params, video.true)
    assert params[1:].tolist() == [cx, cy]
    # the same wrong focal length, fixed: kept exactly (wrong as given)
    conf_fixed = ReconstructConf(
        camera_model="SIMPLE_PINHOLE", camera_params=f"{1.1 * f},{cx},{cy}", camera_mode="single"
    )
    reconstruct([video.folder], out, conf_fixed, workers=1, overwrite=True)
    _, params, _ = _camera(out / "models" / "video_00" / "0")
    assert params.tolist() == [1.1 * f, cx, cy]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera-model", "SIMPLE_PINHOLE", "--camera-params", "600,320"], "expected 3"),
        (["--camera-params", "600,320,240"], "SIMPLE_RADIAL (f,cx,cy,k)"),
        (["--camera-model", "PINHOLE", "--camera-params", "600,x,320,240"], "expected 4"),
        (["--camera-model", "PINHOL", "--camera-params", "1,2,3"], "unknown camera model"),
        (["--fix-intrinsics"], "fixed intrinsics need known ones"),
    ],
)
def test_bad_camera_settings_fail_clearly(tmp_path, args, message):
    folder = tmp_path / "imgs"
    folder.mkdir()
    res = CliRunner().invoke(
        app, ["scene", "reconstruct", str(folder), "--out", str(tmp_path / "o"), *args]
    )
    assert res.exit_code == 2 and "error" in res.output
    assert message in " ".join(res.output.split()), res.output
    assert not (tmp_path / "o").exists()


def test_select_models_drops_models_without_points():
    def rec(images, points):
        return SimpleNamespace(num_reg_images=lambda: images, num_points3D=lambda: points)

    kept, dropped = select_models(
        [rec(8, 0), rec(3, 500), rec(6, 400), rec(9, 14), rec(7, 15)], 5, 15
    )
    assert [(r.num_reg_images(), r.num_points3D()) for r in kept] == [(7, 15), (6, 400)]
    assert dropped == [
        {"images": 9, "points": 14},
        {"images": 8, "points": 0},
        {"images": 3, "points": 500},
    ]


def test_select_models_drops_a_second_model_of_the_same_frames():
    """COLMAP registered the 10 frames of a 10-frame model again in a later model of the same
    video (the grounding world, seed 0, car_2_v00), and that second model was placed metres off."""

    def rec(frames, points=100):
        images = {
            i: SimpleNamespace(name=f"t{f:06.1f}.jpg", has_pose=True) for i, f in enumerate(frames)
        }
        images[99] = SimpleNamespace(name="unregistered.jpg", has_pose=False)
        return SimpleNamespace(
            num_reg_images=lambda: len(frames), num_points3D=lambda: points, images=images
        )

    first, again, other, half = (
        rec(range(23)),
        rec(range(10)),
        rec(range(30, 37)),
        rec([*range(3), *range(40, 43)]),
    )
    kept, dropped = select_models([again, other, first, half], 5, 15)
    assert kept == [first, other, half]  # half of half's frames are new: kept
    assert dropped == [{"images": 10, "points": 100, "duplicate": True}]


def test_zero_point_model_is_not_written_nor_a_graph_node(video, tmp_path, monkeypatch):
    """COLMAP can return a model with registered images but no 3D point: it must be dropped."""
    from instructvid.scene.align import align

    real = pycolmap.incremental_mapping

    def with_empty_model(*args, **kwargs):
        recs = real(*args, **kwargs)
        empty = pycolmap.Reconstruction(recs[0])
        for pid in list(empty.points3D):
            empty.delete_point3D(pid)
        assert empty.num_reg_images() == recs[0].num_reg_images() and empty.num_points3D() == 0
        return {0: empty, 1: recs[0]}  # the point-less one first and as large: still dropped

    monkeypatch.setattr(pycolmap, "incremental_mapping", with_empty_model)
    s = reconstruct_input(video.folder, tmp_path / "rec", ReconstructConf(camera_mode="single"))
    assert [m["id"] for m in s["models"]] == ["video_00/0"] and s["models"][0]["points"] > 200
    assert s["dropped_models"] == [{"images": s["models"][0]["images"], "points": 0}]
    assert not (tmp_path / "rec" / "models" / "video_00" / "1").exists()
    graph = json.loads(align(tmp_path / "rec", tmp_path / "graph.json").read_text())
    assert [n["id"] for n in graph["nodes"]] == ["video_00/0"]


def test_align_redoes_pairs_of_redone_models(video, fixed, tmp_path):
    """A cached alignment pair is reused only while both models are the ones it was made on."""
    from instructvid.scene.align import align

    out = tmp_path / "rec"
    shutil.copytree(fixed.out, out)  # video_00, done with the fixed known intrinsics
    twin = tmp_path / "video_01"
    shutil.copytree(video.folder, twin)
    conf = ReconstructConf(
        camera_model="SIMPLE_PINHOLE", camera_params=fixed.params, camera_mode="single"
    )
    reconstruct([video.folder, twin], out, conf, workers=1)
    graph = tmp_path / "graph.json"
    first = json.loads(align(out, graph).read_text())
    assert len(first["edges"]) == 1
    (record,) = (out / "align").glob("*/pairs/*.json")
    runs = json.loads(record.read_text())["runs"]
    assert set(runs) == {"video_00/0", "video_01/0"} and all(runs.values())
    stamp = record.stat().st_mtime_ns
    align(out, graph)  # nothing changed: the cached pair is reused
    assert record.stat().st_mtime_ns == stamp
    reconstruct([twin], out, conf, workers=1, overwrite=True)  # video_01 redone: new run id
    align(out, graph)
    again = json.loads(record.read_text())["runs"]
    assert again["video_00/0"] == runs["video_00/0"] and again["video_01/0"] != runs["video_01/0"]
