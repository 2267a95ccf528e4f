"""End to end on a tiny rendered scene: render → reconstruct → align → transfer (and the CLI).

Three videos of 10 frames at 320 x 240, rendered headless; frames written as JPEG folders (the
folder-of-images path). Checks each alignment edge against the ground-truth cameras (scale and
rotation), the keypoint transfer by PCK, resuming, and the command-line contract.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pycolmap")
moderngl = pytest.importorskip("moderngl")
try:  # headless OpenGL needs an EGL driver (Mesa's llvmpipe on a CPU-only machine)
    moderngl.create_standalone_context(backend="egl").release()
except Exception as exc:  # pragma: no cover - depends on the machine
    pytest.skip(f"no headless EGL context for rendering: {exc}", allow_module_level=True)

from instructvid.scene.align import AlignConf, align  # noqa: E402
from instructvid.scene.evaluate import edge_errors  # noqa: E402
from instructvid.scene.keypoints import transfer  # noqa: E402
from instructvid.scene.reconstruct import load_models, reconstruct  # noqa: E402
from instructvid.scene.sfm import ReconstructConf  # noqa: E402
from instructvid.synth.scene import render_scene  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A rendered scene as JPEG folders + its reconstruction (module-scoped: built once)."""
    import cv2

    root = tmp_path_factory.mktemp("tiny_scene")
    scene_json = render_scene(
        root / "scene",
        n_videos=3,
        n_frames=10,
        width=320,
        height=240,
        seed=1,
        arc_degrees=50.0,
        annotated_frames=5,
    )
    scene = json.loads(scene_json.read_text())
    inputs = []
    for name in scene["videos"]:
        folder = root / "jpeg" / name
        folder.mkdir(parents=True)
        for png in sorted((root / "scene" / "videos" / name).glob("*.png")):
            cv2.imwrite(
                str(folder / f"{png.stem}.jpg"),
                cv2.imread(str(png)),
                [cv2.IMWRITE_JPEG_QUALITY, 92],
            )
        inputs.append(folder)
        for f in scene["videos"][name]["frames"]:
            f["name"] = f["name"].replace(".png", ".jpg")
    kp = json.loads((root / "scene" / "keypoints.json").read_text())
    kp["annotations"] = {
        v: {n.replace(".png", ".jpg"): a for n, a in ann.items()}
        for v, ann in kp["annotations"].items()
    }
    (root / "keypoints.json").write_text(json.dumps(kp))
    out = root / "rec"
    conf = ReconstructConf(camera_mode="single", max_features=1500)
    start = time.perf_counter()
    report = reconstruct(inputs, out, conf, workers=2)
    return {
        "root": root,
        "out": out,
        "scene": scene,
        "inputs": inputs,
        "conf": conf,
        "report": json.loads(report.read_text()),
        "keypoints": root / "keypoints.json",
        "seconds": time.perf_counter() - start,
    }


def test_every_video_reconstructs_with_source_names(tiny):
    report = tiny["report"]
    assert set(report["inputs"]) == {"video_00", "video_01", "video_02"}
    import pycolmap

    for name, s in report["inputs"].items():
        assert s["frames"] == 10 and s["registered_images"] >= 8, (name, s)
        rec = pycolmap.Reconstruction(str(tiny["out"] / "models" / name / "0"))
        assert {im.name for im in rec.images.values()} <= {f"{i:04d}.jpg" for i in range(10)}
        assert rec.num_points3D() == s["models"][0]["points"] > 200


def test_rerun_skips_finished_inputs(tiny):
    start = time.perf_counter()
    path = reconstruct(tiny["inputs"], tiny["out"], tiny["conf"], workers=1)
    assert time.perf_counter() - start < 5.0
    again = json.loads(path.read_text())
    assert again["inputs"]["video_00"]["seconds"] == tiny["report"]["inputs"]["video_00"]["seconds"]


def test_alignment_recovers_scale_and_rotation(tiny):
    graph_path = align(tiny["out"], tiny["root"] / "graph.json", AlignConf(method="local+flow"))
    graph = json.loads(graph_path.read_text())
    assert len(graph["components"]) == 1, graph["attempts"]
    assert len(graph["edges"]) >= 2
    for row in edge_errors(graph, tiny["scene"], tiny["out"]):
        # ground truth from Umeyama on camera centres: a 10-frame 320 x 240 model is itself a few
        # per cent off in scale, so the tolerance covers the model's error as well as the edge's
        assert abs(row["scale_ratio"] - 1) < 0.06, row
        assert row["rotation_error_deg"] < 2.0, row
        assert row["translation_error_m"] < 0.05, row
    ply = Path(graph["point_cloud"])
    assert ply.exists() and b"element vertex" in ply.read_bytes()[:200]
    # keypoint transfer along the graph: most keypoints within 5 cm
    result = transfer(
        tiny["out"],
        graph_path,
        tiny["keypoints"],
        tiny["root"] / "transfer",
        tolerances_cm=[1, 2, 5, 10, 30],
    )
    assert result.n_pairs == 2
    assert result.curves["graph"][2] >= 0.8 and result.curves["graph"][-1] == 1.0
    pck = json.loads(result.pck_json.read_text())
    assert {"metric", "mean", "n_videos", "method", "per_pair"} <= set(pck)
    assert list((tiny["root"] / "transfer" / "overlays").glob("*.png"))
    proj = json.loads(next((tiny["root"] / "transfer" / "transferred").glob("*.json")).read_text())
    assert len(proj["projections"]) >= 8


def test_cli_contract(tiny):
    from typer.testing import CliRunner

    from instructvid.cli.main import app

    runner = CliRunner()
    same = ["--single-camera", "--max-features", "1500"]  # the fixture's settings
    res = runner.invoke(
        app, ["scene", "reconstruct", *map(str, tiny["inputs"]), "--out", str(tiny["out"]), *same]
    )
    assert res.exit_code == 0, res.output  # all finished with the same settings: skipped
    graph = tiny["root"] / "cli_graph.json"
    res = runner.invoke(
        app,
        [
            "scene",
            "align",
            str(tiny["out"]),
            "--out",
            str(graph),
            "--reference",
            "video_01",
            "--method",
            "local",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(graph.read_text())
    assert data["reference"] == "video_01/0"
    assert {n["id"] for n in data["nodes"]} == {f"video_0{i}/0" for i in range(3)}
    for e in data["edges"]:
        assert set(e) >= {"src", "dst", "scale", "R", "t", "inliers"}
        assert np.asarray(e["R"]).shape == (3, 3) and len(e["t"]) == 3
    res = runner.invoke(
        app,
        [
            "scene",
            "transfer",
            str(tiny["out"]),
            str(graph),
            "--keypoints",
            str(tiny["keypoints"]),
            "--out",
            str(tiny["root"] / "cli_transfer"),
            "--tolerances",
            "1:30",
        ],
    )
    assert res.exit_code == 0, res.output
    csv_lines = (tiny["root"] / "cli_transfer" / "pck.csv").read_text().splitlines()
    assert csv_lines[0] == "tolerance_cm,graph,direct" and len(csv_lines) == 31
    res = runner.invoke(
        app,
        ["scene", "reconstruct", str(tiny["root"] / "nope.mp4"), "--out", str(tiny["root"] / "x")],
    )
    assert res.exit_code == 2 and "nope.mp4" in res.output


def test_video_input_names_frames_by_time(tmp_path, tiny):
    import cv2

    from instructvid.video.decode import write_video

    frames = [
        cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
        for p in sorted((tiny["root"] / "scene" / "videos" / "video_00").glob("*.png"))
    ]
    clip = write_video(tmp_path / "clip.mp4", frames, fps=4.0)
    path = reconstruct(
        [clip], tmp_path / "rec", ReconstructConf(n_frames=8, max_features=1500), workers=1
    )
    s = json.loads(path.read_text())["inputs"]["clip"]
    assert s["kind"] == "video" and s["frames"] == 8 and s["registered_images"] >= 6
    names = sorted((tmp_path / "rec" / "frames" / "clip").iterdir())
    assert all(n.name.startswith("t0000") and n.name.endswith(".jpg") for n in names)
    assert load_models(tmp_path / "rec")[0].id == "clip/0"


def test_undecodable_video_fails_clearly(tmp_path):
    from instructvid.parallel import ItemError

    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 1000)
    with pytest.raises(ItemError, match=r"corrupt\.mp4"):
        reconstruct([bad], tmp_path / "rec", workers=1)


def test_ray_executor_reconstructs(tmp_path, tiny):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        path = reconstruct(tiny["inputs"][:1], tmp_path / "rec", tiny["conf"], executor="ray")
    finally:
        ray.shutdown()
    s = json.loads(path.read_text())["inputs"]["video_00"]
    assert s["registered_images"] >= 8 and s["models"][0]["id"] == "video_00/0"


def test_render_reuses_a_finished_scene_only_with_the_same_settings(tmp_path: Path) -> None:
    out = tmp_path / "scene"
    done = render_scene(out, n_videos=1, n_frames=2, width=64, height=48, seed=5)
    stamp = done.stat().st_mtime_ns
    assert render_scene(out, n_videos=1, n_frames=2, width=64, height=48, seed=5) == done
    assert done.stat().st_mtime_ns == stamp  # reused, not rendered again
    with pytest.raises(ValueError, match=r"n_frames: 2 -> 3"):
        render_scene(out, n_videos=1, n_frames=3, width=64, height=48, seed=5)


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_moves_with_images_and_changes_no_output(tmp_path, tiny, workers):
    seen: list[tuple[float, int]] = []
    inputs = tiny["inputs"][:2]
    reconstruct(
        inputs,
        tmp_path / "rec",
        tiny["conf"],
        workers=workers,
        progress=lambda d, t: seen.append((d, t)),
    )
    done = [d for d, _ in seen]
    assert {t for _, t in seen} == {2} and done == sorted(done) and done[-1] == 2
    # inside the inputs, not once per input: 10 images x 3 stages per input
    assert len({d for d in done if d not in (0, 1, 2)}) >= 10
    for name in (Path(p).name for p in inputs):
        for model in sorted((tiny["out"] / "models" / name).glob("*/points3D.bin")):
            again = tmp_path / "rec" / model.relative_to(tiny["out"])
            assert again.read_bytes() == model.read_bytes()
            images = model.with_name("images.bin")
            assert again.with_name("images.bin").read_bytes() == images.read_bytes()
