"""Synthetic narrated videos: layout, bad videos, steps drawn from their words, resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

from instructvid.io.crosstask import read_segments, read_task_cards, read_video_list
from instructvid.io.subtitles import read_webvtt
from instructvid.synth.crosstask import vocabulary as vocab
from instructvid.synth.videos import VideoSettings, generate_videos, glyph
from instructvid.video.decode import VideoDecodeError, iter_frames, probe_video

SETTINGS = VideoSettings(seed=3, tasks=3, videos_per_task=2, size=48, fps=1.0, noise=2.0)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("videos")
    return out, generate_videos(out, SETTINGS)


def test_layout_lists_and_bad_videos(folder):
    out, summary = folder
    tasks = read_task_cards(out / "tasks.txt")
    entries = read_video_list(out / "videos.csv")
    assert len(tasks) == 3 and len(entries) == 6
    assert {e.task_id for e in entries} == set(tasks)
    kinds = {v: k for v, k in summary["bad"].items()}
    assert sorted(kinds.values()) == ["corrupt", "empty", "no-subtitles"]
    by_kind = {k: v for v, k in kinds.items()}
    assert (out / "videos" / f"{by_kind['empty']}.mp4").stat().st_size == 0
    with pytest.raises(VideoDecodeError):
        probe_video(out / "videos" / f"{by_kind['corrupt']}.mp4")
    assert not (out / "subtitles" / f"{by_kind['no-subtitles']}.vtt").exists()
    for e in entries:
        has_annotation = (out / "annotations" / f"{e.task_id}_{e.video_id}.csv").is_file()
        assert has_annotation == (kinds.get(e.video_id) not in ("corrupt", "empty"))


def test_videos_are_h264_and_subtitles_fit(folder):
    out, summary = folder
    ok = [v for v, info in summary["videos"].items() if info["kind"] in ("ok", "no-subtitles")]
    assert len(ok) == 4
    import av

    for vid in ok:
        with av.open(str(out / "videos" / f"{vid}.mp4")) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        info = probe_video(out / "videos" / f"{vid}.mp4")
        duration = summary["videos"][vid]["duration"]
        assert (info.width, info.height) == (48, 48)
        assert info.n_frames == math.ceil(duration)  # one frame per second at fps 1
        vtt = out / "subtitles" / f"{vid}.vtt"
        if vtt.exists():
            cues = read_webvtt(vtt)
            assert cues and all(0 <= c.start <= c.end <= duration for c in cues)


def _colour_fraction(rgb: np.ndarray, colour: tuple[int, int, int]) -> float:
    distance = np.linalg.norm(rgb.astype(float) - np.array(colour, float), axis=-1)
    return float((distance < 45).mean())


def test_step_frames_show_the_glyphs_of_their_words(folder):
    out, summary = folder
    tasks = read_task_cards(out / "tasks.txt")
    checked = 0
    for vid, info in summary["videos"].items():
        if info["kind"] not in ("ok", "no-subtitles"):
            continue
        task = tasks[info["task"]]
        segments = read_segments(out / "annotations" / f"{info['task']}_{vid}.csv")
        frames = {round(t): rgb for _, t, rgb in iter_frames(out / "videos" / f"{vid}.mp4")}
        for seg in segments:
            mid = round((seg.start + seg.end) / 2)
            words = vocab.components(task.steps[seg.step - 1])
            # Each word's glyph is drawn in its own colour (a lighter or darker fill).
            seen = [_colour_fraction(frames[mid], glyph(w).color) for w in words]
            assert max(seen) > 0.01, (vid, seg, words, seen)
            checked += 1
    assert checked >= 4


def test_glyphs_depend_on_the_word_only_so_tasks_share_them():
    shared = [(a, b) for a in vocab.PRIMARY_TASKS[:3] for b in vocab.PRIMARY_TASKS[:3] if a != b]
    words = {w for a, b in shared for s in a.steps for w in vocab.components(s)} & {
        w for a, b in shared for s in b.steps for w in vocab.components(s)
    }
    assert "add" in words or "pour" in words
    assert glyph("sugar") == glyph("sugar")
    assert glyph("sugar") != glyph("milk")


def test_same_seed_same_files_and_resume_skips(folder, tmp_path):
    out, summary = folder
    again = generate_videos(tmp_path, SETTINGS)
    assert again["videos"] == summary["videos"]
    for name in ("tasks.txt", "videos.csv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()
    for path in (out / "annotations").iterdir():
        assert (tmp_path / "annotations" / path.name).read_bytes() == path.read_bytes()
    for path in (out / "subtitles").iterdir():
        assert (tmp_path / "subtitles" / path.name).read_bytes() == path.read_bytes()
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "videos").iterdir()}
    generate_videos(tmp_path, SETTINGS)
    assert stamps == {p.name: p.stat().st_mtime_ns for p in (tmp_path / "videos").iterdir()}
    with pytest.raises(ValueError, match="made with"):
        generate_videos(tmp_path, VideoSettings(seed=4, tasks=3, videos_per_task=2, size=48))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="size"):
        VideoSettings(size=33)
    with pytest.raises(ValueError, match="tasks"):
        VideoSettings(tasks=0)
