"""``instructvid video features|cues|probe``: outputs, exit codes, messages without tracebacks."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.video.synthetic import scene_video
from tests.video import clips

runner = CliRunner()


def test_features_exit_codes_and_outputs(tmp_path):
    videos = tmp_path / "videos"
    scene_video(videos / "one.mp4", 1, 3.2)
    clips.text_named_mp4(videos / "notes.mp4")
    out = tmp_path / "out"
    args = [
        "video",
        "features",
        str(videos),
        "--out",
        str(out),
        "--extractor",
        "tiny",
        "--workers",
        "1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert np.load(out / "one.npy").shape == (4, 128)
    assert json.loads((out / "manifest.json").read_text())["videos"]["one"]["rows"] == 4
    assert [p["video"] for p in json.loads((out / "problems.json").read_text())] == ["notes"]
    assert "notes.mp4: not a video" in result.output and "Traceback" not in result.output
    assert runner.invoke(app, [*args, "--strict"]).exit_code == 1  # one video failed
    none = runner.invoke(
        app,
        [
            "video",
            "features",
            str(videos / "notes.mp4"),
            "--out",
            str(tmp_path / "o2"),
            "--extractor",
            "tiny",
        ],
    )
    assert none.exit_code == 1 and json.loads((tmp_path / "o2" / "problems.json").read_text())
    bad = runner.invoke(
        app,
        ["video", "features", str(videos), "--out", str(tmp_path / "o3"), "--extractor", "nope"],
    )
    assert bad.exit_code == 2 and "unknown extractor 'nope'" in bad.output
    weights = tmp_path / "w.pth"
    weights.write_text("junk")
    wrong = runner.invoke(
        app,
        [
            "video",
            "features",
            str(videos),
            "--out",
            str(tmp_path / "o4"),
            "--weights",
            str(weights),
        ],
    )
    assert wrong.exit_code == 2 and "w.pth: not a PyTorch weights file" in wrong.output


def test_cues_and_probe(tmp_path):
    path = clips.timed(tmp_path / "v" / "clock.mp4", [i / 10 for i in range(23)], rotation=270)
    out = tmp_path / "flow"
    result = runner.invoke(
        app, ["video", "cues", str(path), "--out", str(out), "--cue", "flow", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert np.load(out / "clock.npy").shape == (3,)
    unknown = runner.invoke(app, ["video", "cues", str(path), "--out", str(out), "--cue", "smell"])
    assert unknown.exit_code == 2 and "unknown cue 'smell'" in unknown.output
    probe = runner.invoke(app, ["video", "probe", str(path), "--json"])
    assert probe.exit_code == 0, probe.output
    facts = json.loads(probe.output)
    assert (facts["rotation"], facts["width"], facts["height"], facts["codec"]) == (
        270,
        48,
        128,
        "h264",
    )
    assert facts["duration"] > 2 and facts["streams"][0]["type"] == "video"
    text = runner.invoke(app, ["video", "probe", str(path)])
    assert text.exit_code == 0 and "rotation" in text.output and "270" in text.output
    empty = runner.invoke(app, ["video", "probe", str(clips.empty(tmp_path / "e.mp4"))])
    assert empty.exit_code == 2 and "e.mp4: empty file" in empty.output
