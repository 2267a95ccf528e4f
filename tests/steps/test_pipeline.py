"""``steps run``: video files and subtitles in, step times out; bad videos listed; interrupt and
resume; a trained model applied to a task it never saw."""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("instructvid.video.extract")

from instructvid.cli.main import app
from instructvid.io.crosstask import (
    Task,
    VideoEntry,
    read_segments,
    read_task_cards,
    write_task_cards,
    write_video_list,
)
from instructvid.steps.pipeline import NothingRanError, RunSettings, run_pipeline
from instructvid.steps.pipeline.settings import DEFAULT_HYPER
from instructvid.synth.videos import VideoSettings, generate_videos
from instructvid.video.decode import write_video

FAST = {**DEFAULT_HYPER, "epochs_init": 2, "epochs": 2}  # what _args gives
SETTINGS = RunSettings(extractor="tiny", hyper=FAST, workers=1)


def _args(src, out, *extra):
    return [
        "steps", "run", str(src / "videos"), "--tasks", str(src / "tasks.txt"),
        "--videos", str(src / "videos.csv"), "--subtitles", str(src / "subtitles"),
        "--out", str(out), "--extractor", "tiny", "--workers", "1", "--epochs", "2", "--epochs-init", "2", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("videos")
    summary = generate_videos(
        out, VideoSettings(seed=1, tasks=3, videos_per_task=3, size=32, fps=1.0)
    )
    return out, summary


@pytest.fixture(scope="module")
def finished(folder, tmp_path_factory):
    """An uninterrupted run through the command line."""
    src, _ = folder
    out = tmp_path_factory.mktemp("run") / "RUN"
    result = CliRunner().invoke(app, _args(src, out, "--annotations", str(src / "annotations")))
    assert result.exit_code == 0, result.output
    return out, result.output


def test_outputs_one_row_per_step_in_order(folder, finished):
    src, summary = folder
    run, output = finished
    tasks = read_task_cards(src / "tasks.txt")
    steps = json.loads((run / "steps.json").read_text())
    good = {v for v, info in summary["videos"].items() if info["kind"] in ("ok", "no-subtitles")}
    assert set(steps) == good
    for vid, entry in steps.items():
        task = tasks[entry["task"]]
        rows = read_segments(run / "steps" / f"{entry['task']}_{vid}.csv")
        assert [r.step for r in rows] == list(range(1, task.n_steps + 1))
        starts = [r.start for r in rows]
        assert starts == sorted(starts) and len(set(starts)) == len(starts)
        assert all(r.end == r.start + 1 for r in rows)
        n_rows = np.load(run / "features" / f"{vid}.npy").shape[0]
        assert 0 <= starts[0] and starts[-1] < n_rows
        assert [s["name"] for s in entry["steps"]] == list(task.steps)
        assert [s["start"] for s in entry["steps"]] == starts
        assert all(0.0 <= s["score"] <= 1.0 for s in entry["steps"])
    assert (run / "report.html").is_file() and "report:" in output


def test_bad_videos_are_listed_with_their_reasons(folder, finished):
    _, summary = folder
    run, output = finished
    problems = {p["video"]: p for p in json.loads((run / "problems.json").read_text())}
    kinds = {kind: vid for vid, kind in summary["bad"].items()}
    assert problems[kinds["corrupt"]]["stage"] == "features"
    assert problems[kinds["corrupt"]]["skipped"] is True
    assert problems[kinds["empty"]]["stage"] == "features"
    assert problems[kinds["empty"]]["skipped"] is True
    assert problems[kinds["no-subtitles"]]["stage"] == "constraints"
    assert problems[kinds["no-subtitles"]]["skipped"] is False
    assert "at-least-once" in problems[kinds["no-subtitles"]]["reason"]
    assert len(problems) == 3
    assert "Traceback" not in output


def test_strict_fails_when_a_video_was_skipped_and_reruns_skip_everything(folder, finished):
    src, _ = folder
    run, _ = finished
    before = (run / "steps.json").read_bytes()
    result = CliRunner().invoke(app, [*_args(src, run), "--strict"])
    assert result.exit_code == 1
    assert result.output.count("finished before") == 5
    assert (run / "steps.json").read_bytes() == before
    result = CliRunner().invoke(app, [*_args(src, run), "--seed", "1"])
    assert result.exit_code == 2 and "other inputs or settings" in result.output


def test_interrupted_after_features_resumes_to_the_same_result(folder, finished, tmp_path):
    src, _ = folder
    run, _ = finished
    out = tmp_path / "RUN"

    @contextmanager
    def stop_at_training(stage):
        if stage == "training":
            raise KeyboardInterrupt
        yield None

    settings = RunSettings(extractor="tiny", hyper=FAST, workers=1)
    kwargs = {"subtitles": src / "subtitles"}
    lists = (src / "videos", src / "tasks.txt", src / "videos.csv")
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(*lists, out, settings, progress=stop_at_training, **kwargs)
    done = json.loads((out / "stages.json").read_text())
    assert set(done) == {"features", "constraints"}
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "features").iterdir()}
    lines: list[str] = []
    result = run_pipeline(*lists, out, settings, notify=lines.append, **kwargs)
    assert lines[0].startswith("features: finished before")
    assert lines[1].startswith("constraints: finished before")
    assert stamps == {p.name: p.stat().st_mtime_ns for p in (out / "features").iterdir()}
    assert result.stages["model"]["skipped_now"] is False
    mine = json.loads((out / "steps.json").read_text())
    theirs = json.loads((run / "steps.json").read_text())
    assert mine == theirs


def test_a_trained_model_places_the_steps_of_a_task_it_never_saw(finished, tmp_path):
    run, _ = finished
    src = tmp_path / "src"
    # Four tasks, one video each: the fourth (Make French Toast) was not in the training run.
    summary = generate_videos(
        src, VideoSettings(seed=2, tasks=4, videos_per_task=1, size=32, fps=1.0)
    )
    assert not summary["bad"]
    out = tmp_path / "RUN"
    settings = RunSettings(extractor="tiny", model=run, hyper=FAST, workers=1)
    result = run_pipeline(
        src / "videos", src / "tasks.txt", src / "videos.csv", out, settings,
        subtitles=src / "subtitles",
    )  # fmt: skip
    assert result.n_videos == 4
    assert not (out / "model").exists()  # applied, not trained
    steps = json.loads((out / "steps.json").read_text())
    french_toast = [e for e in steps.values() if e["task"] == "71781"]
    assert len(french_toast) == 1 and len(french_toast[0]["steps"]) == 10


def test_nothing_ran_when_every_video_is_too_short(tmp_path):
    task = Task("7", "Make Pancakes", "u", ("add flour", "add egg", "add milk", "flip pancake"))
    write_task_cards(tmp_path / "tasks.txt", [task])
    write_video_list(tmp_path / "videos.csv", [VideoEntry("7", "short"), VideoEntry("7", "gone")])
    frames = [np.full((32, 32, 3), 40 * i, np.uint8) for i in range(3)]
    write_video(tmp_path / "videos" / "short.mp4", frames, fps=1)
    with pytest.raises(NothingRanError):
        run_pipeline(
            tmp_path / "videos", tmp_path / "tasks.txt", tmp_path / "videos.csv",
            tmp_path / "RUN", SETTINGS,
        )  # fmt: skip
    problems = {p["video"]: p for p in json.loads((tmp_path / "RUN" / "problems.json").read_text())}
    assert "too short" in problems["short"]["reason"]
    assert problems["gone"]["stage"] == "inputs"
    result = CliRunner().invoke(
        app,
        ["steps", "run", str(tmp_path / "videos"), "--tasks", str(tmp_path / "tasks.txt"),
         "--videos", str(tmp_path / "videos.csv"), "--out", str(tmp_path / "RUN2"),
         "--extractor", "tiny"],
    )  # fmt: skip
    assert result.exit_code == 1 and "no video could run" in result.output


def test_bad_lists_are_named(tmp_path):
    write_task_cards(tmp_path / "tasks.txt", [Task("7", "T", "u", ("a b", "c d"))])
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos.csv").write_text("7,ok\n8,other\n")
    with pytest.raises(ValueError, match=r"videos.csv, line 2: task 8"):
        run_pipeline(
            tmp_path / "videos", tmp_path / "tasks.txt", tmp_path / "videos.csv",
            tmp_path / "RUN", SETTINGS,
        )  # fmt: skip
    (tmp_path / "videos.csv").write_text("7,../x\n")
    with pytest.raises(ValueError, match="not a valid id"):
        run_pipeline(
            tmp_path / "videos", tmp_path / "tasks.txt", tmp_path / "videos.csv",
            tmp_path / "RUN", SETTINGS,
        )  # fmt: skip
