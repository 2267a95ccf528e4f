"""The stages: a folder of videos in, arrays + manifest + problems out; resumable; pool = Ray."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from instructvid.video.extract import extract_cues, extract_features, list_videos
from instructvid.video.synthetic import scene_video
from tests.video import clips


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    scene_video(root / "kitchen.mp4", 1, 4.5)
    scene_video(root / "garage.mkv", 2, 2.0)
    clips.truncated(root / "cut.mkv", seconds=6.0, keep=0.5)
    clips.empty(root / "empty.mp4")
    clips.text_named_mp4(root / "notes.mp4")
    clips.audio_only(root / "voice.mp4")
    clips.unsupported_codec(root / "odd.avi")
    clips.no_frames(root / "blank.mkv")
    (root / "bad name.mp4").write_bytes((root / "kitchen.mp4").read_bytes())
    (root / "readme.txt").write_text("not listed: not a video extension")
    return root


def test_list_videos(folder, tmp_path):
    names = [p.name for p in list_videos([folder, folder / "readme.txt"])]
    assert names == sorted(names) and "readme.txt" in names and len(names) == 10
    with pytest.raises(ValueError, match=r"nowhere\.mp4: no such video file or folder"):
        list_videos([tmp_path / "nowhere.mp4"])


def test_features_good_and_bad_videos(folder, tmp_path):
    out = tmp_path / "feats"
    seen = []
    result = extract_features(
        [folder], out, extractor="tiny", workers=1, on_video=lambda s, e: seen.append(s)
    )
    assert set(result.videos) == {"kitchen", "garage", "cut"} == set(seen)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["extractor"], manifest["dim"], manifest["fps"]) == ("tiny", 128, 1.0)
    assert manifest["weights_sha256"] is None
    kitchen = manifest["videos"]["kitchen"]
    assert kitchen["rows"] == 5 and kitchen["duration"] == pytest.approx(4.5, abs=0.05)
    assert kitchen["source"].endswith("kitchen.mp4") and kitchen["seconds"] >= 0
    arr = np.load(out / "kitchen.npy")
    assert arr.shape == (5, 128) and arr.dtype == np.float32
    assert (
        manifest["videos"]["cut"].get("truncated") is True and "truncated" in result.warnings["cut"]
    )
    assert np.load(out / "cut.npy").shape[0] == manifest["videos"]["cut"]["rows"] >= 1
    problems = {p["video"]: p["reason"] for p in json.loads((out / "problems.json").read_text())}
    assert problems == {p["video"]: p["reason"] for p in result.problems}
    expected = {
        "empty": "empty file",
        "notes": "not a video",
        "voice": "no video stream",
        "odd": "unsupported video codec",
        "blank": "zero duration",
        "bad name": "not a valid video id",
    }
    assert set(problems) == set(expected)
    for stem, words in expected.items():
        assert words in problems[stem] and stem in problems[stem]
    assert not (out / "bad name.npy").exists()


def test_rerun_skips_finished_videos_and_other_settings_are_refused(folder, tmp_path):
    out = tmp_path / "feats"
    first = extract_features([folder / "kitchen.mp4"], out, extractor="tiny", workers=1)
    stamp = os.stat(out / "kitchen.npy").st_mtime_ns
    again = extract_features(
        [folder / "kitchen.mp4", folder / "garage.mkv"], out, extractor="tiny", workers=1
    )
    assert os.stat(out / "kitchen.npy").st_mtime_ns == stamp
    assert again.videos["kitchen"] == first.videos["kitchen"] and "garage" in again.videos
    assert set(json.loads((out / "manifest.json").read_text())["videos"]) == {"kitchen", "garage"}
    with pytest.raises(ValueError, match=r"other settings: fps=1\.0 \(asked 2\.0\)"):
        extract_features([folder / "kitchen.mp4"], out, extractor="tiny", fps=2.0, workers=1)


def test_fps_option_gives_more_rows(folder, tmp_path):
    result = extract_features(
        [folder / "kitchen.mp4"], tmp_path / "f2", extractor="tiny", fps=2.0, workers=1
    )
    assert result.videos["kitchen"]["rows"] == 9  # 0, 0.5, …, 4.0 s of a 4.5 s video


def test_flow_cue_follows_the_motion(tmp_path):
    from instructvid.video.synthetic import scene_frames, write_timed_video

    frames = scene_frames(4, 40, width=160, height=96, speed=0) + scene_frames(
        4, 40, width=160, height=96, speed=4
    )
    times = [i / 20 for i in range(80)]
    write_timed_video(tmp_path / "in" / "still_then_pan.mp4", frames, times)
    result = extract_cues([tmp_path / "in"], tmp_path / "flow", cue="flow", workers=1)
    flow = np.load(tmp_path / "flow" / "still_then_pan.npy")
    assert (
        flow.shape == (4,)
        and flow.dtype == np.float32
        and result.videos["still_then_pan"]["rows"] == 4
    )
    # still for 2 s, then 4 px per frame at 20 fps = 80 px/s = 0.5 image widths per second
    assert flow[0] < 0.02 and flow[1] < 0.1
    assert flow[3] == pytest.approx(0.5, rel=0.35)
    manifest = json.loads((tmp_path / "flow" / "manifest.json").read_text())
    assert (manifest["cue"], manifest["dim"]) == ("flow", 1)
    from instructvid.io.scores import read_actionness

    np.testing.assert_allclose(read_actionness(tmp_path / "flow" / "still_then_pan.npy"), flow)


def test_process_pool_and_ray_give_identical_arrays(folder, tmp_path):
    ray = pytest.importorskip("ray")
    inputs = [folder / "kitchen.mp4", folder / "garage.mkv", folder / "notes.mp4"]
    pool = extract_features(inputs, tmp_path / "pool", extractor="tiny", workers=2)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        on_ray = extract_features(inputs, tmp_path / "ray", extractor="tiny", executor="ray")
    finally:
        ray.shutdown()
    assert set(pool.videos) == set(on_ray.videos) == {"kitchen", "garage"}
    assert [p["video"] for p in pool.problems] == [p["video"] for p in on_ray.problems] == ["notes"]
    for stem in pool.videos:
        np.testing.assert_array_equal(
            np.load(tmp_path / "pool" / f"{stem}.npy"), np.load(tmp_path / "ray" / f"{stem}.npy")
        )
