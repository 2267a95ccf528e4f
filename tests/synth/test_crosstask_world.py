"""The synthetic CrossTask world: layout, determinism, resume, statistics and learnability."""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.crosstask import (
    CrossTaskData,
    CrossTaskPaths,
    open_features,
    read_segments,
    read_task_cards,
    read_video_list,
)
from instructvid.io.subtitles import read_webvtt
from instructvid.synth.crosstask import vocabulary as vocab
from instructvid.synth.crosstask.generate import (
    SIZES,
    WORLD_FILE,
    build_world,
    generate_crosstask,
    order_consistency,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_crosstask(tmp_path_factory.mktemp("tiny"), size="tiny", seed=0)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> CrossTaskData:
    return CrossTaskData.open(generate_crosstask(tmp_path_factory.mktemp("small"), size="small"))


def _first_video(root: Path) -> str:
    return read_video_list(CrossTaskPaths.from_root(root).videos)[0].video_id


def _video_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != WORLD_FILE)


# --------------------------------------------------------------------------------------------
# Layout


def test_tiny_world_is_readable_by_the_io_layer(tiny: Path) -> None:
    paths = CrossTaskPaths.from_root(tiny)
    primary = read_task_cards(paths.tasks_primary)
    related = read_task_cards(paths.tasks_related)
    assert len(primary) == 3 and len(related) == 3
    assert all(re.fullmatch(r"\d+", t) for t in [*primary, *related])
    videos = read_video_list(paths.videos)
    val = read_video_list(paths.videos_val)
    assert len(videos) == 3 * 8 + 3 * 4
    assert len(val) == 3 * 2
    assert {(v.task_id, v.video_id) for v in val} <= {(v.task_id, v.video_id) for v in videos}
    ids = [v.video_id for v in videos]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{11}", v) for v in ids)

    fractional = 0
    for entry in videos:
        task = primary.get(entry.task_id) or related[entry.task_id]
        k = task.n_steps
        feats = open_features(paths.feature(entry.video_id), check_finite=True)
        assert feats.dtype == np.float32 and feats.shape[1] == 32
        n_frames = feats.shape[0]
        constraints = read_segments(paths.constraint(entry.task_id, entry.video_id), n_steps=k)
        assert [c.step for c in constraints] == list(range(1, k + 1))
        assert all(0 <= c.start < c.end <= n_frames for c in constraints)
        cues = read_webvtt(tiny / "subtitles" / f"{entry.video_id}.vtt")
        assert cues and all(c.text and c.start <= c.end <= n_frames for c in cues)
        assert all(a.start <= b.start for a, b in itertools.pairwise(cues))
        annotation = paths.annotation(entry.task_id, entry.video_id)
        if entry.task_id not in primary:
            assert not annotation.exists()
            continue
        segments = read_segments(annotation, n_steps=k)
        assert segments, "every annotated video has at least one step"
        assert len({s.step for s in segments}) == len(segments)
        for seg in segments:
            assert 1 <= seg.step <= k
            assert 0 <= seg.start < seg.end <= n_frames
            assert math.ceil(seg.end) - 1 < n_frames
            assert 4.0 - 1e-6 <= seg.end - seg.start <= SIZES["tiny"].step_max + 1e-6
            fractional += seg.start != int(seg.start)
    assert fractional > 0, "segment times are floats, not whole seconds"

    data = CrossTaskData.open(tiny)
    tid, vids = next(iter(data.videos.items()))
    assert data.ground_truth(tid, vids[0]).shape[1] == data.task(tid).n_steps


def test_world_json_is_written_last_and_counts_match(tiny: Path) -> None:
    world = json.loads((tiny / WORLD_FILE).read_text())
    assert (world["size"], world["seed"], world["dim"]) == ("tiny", 0, 32)
    assert world["counts"]["videos"] == 36
    assert world["counts"]["validation_videos"] == 6
    newest = max(p.stat().st_mtime_ns for p in _video_files(tiny))
    assert (tiny / WORLD_FILE).stat().st_mtime_ns >= newest


def test_narration_mentions_step_words(tiny: Path) -> None:
    data = CrossTaskData.open(tiny)
    named = 0
    for tid, task in data.primary.items():
        for vid in data.videos[tid]:
            cues = read_webvtt(tiny / "subtitles" / f"{vid}.vtt")
            said = set(vocab.components(" ".join(c.text for c in cues)))
            named += sum(set(vocab.components(s)) <= said for s in task.steps)
    n_steps = sum(t.n_steps * len(data.videos[tid]) for tid, t in data.primary.items())
    assert 0.4 < named / n_steps < 1.0, "most steps are named, not all"


# --------------------------------------------------------------------------------------------
# Determinism and resume


def test_same_seed_same_bytes_and_other_seed_differs(tiny: Path, tmp_path: Path) -> None:
    again = generate_crosstask(tmp_path / "again", size="tiny", seed=0)
    files = _video_files(tiny)
    assert [p.relative_to(tiny) for p in files] == [
        p.relative_to(again) for p in _video_files(again)
    ]
    for path in files:
        assert path.read_bytes() == (again / path.relative_to(tiny)).read_bytes(), path
    assert (tiny / WORLD_FILE).read_bytes() == (again / WORLD_FILE).read_bytes()

    other = generate_crosstask(tmp_path / "other", size="tiny", seed=1)
    a = open_features(CrossTaskPaths.from_root(tiny).feature(_first_video(tiny)))
    b = open_features(CrossTaskPaths.from_root(other).feature(_first_video(other)))
    assert _first_video(tiny) != _first_video(other)
    n = min(len(a), len(b))
    assert not np.allclose(a[:n], b[:n])


def test_dim_changes_features_only(tiny: Path, tmp_path: Path) -> None:
    narrow = generate_crosstask(tmp_path / "d16", size="tiny", seed=0, dim=16)
    paths, npaths = CrossTaskPaths.from_root(tiny), CrossTaskPaths.from_root(narrow)
    assert paths.videos.read_bytes() == npaths.videos.read_bytes()
    for entry in read_video_list(paths.videos)[:5]:
        wide = open_features(paths.feature(entry.video_id))
        thin = open_features(npaths.feature(entry.video_id))
        assert thin.shape == (wide.shape[0], 16)
        a = paths.constraint(entry.task_id, entry.video_id).read_bytes()
        assert a == npaths.constraint(entry.task_id, entry.video_id).read_bytes()


def test_resume_regenerates_only_missing_files(tiny: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny, copy)
    paths = CrossTaskPaths.from_root(copy)
    entry = read_video_list(paths.videos)[1]
    removed = [paths.feature(entry.video_id), copy / "subtitles" / f"{entry.video_id}.vtt"]
    for path in removed:
        path.unlink()
    (copy / WORLD_FILE).unlink()
    kept = {
        p: p.stat().st_mtime_ns
        for p in _video_files(copy)
        if entry.video_id not in p.name and p.parent != paths.release
    }
    assert len(kept) > 100

    calls: list[tuple[int, int]] = []
    generate_crosstask(copy, size="tiny", seed=0, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 36) for i in range(1, 37)]
    for path in removed:
        assert path.read_bytes() == (tiny / path.relative_to(copy)).read_bytes()
    assert (copy / WORLD_FILE).read_bytes() == (tiny / WORLD_FILE).read_bytes()
    changed = [p for p, t in kept.items() if p.stat().st_mtime_ns != t]
    assert not changed, changed


def test_refuses_a_folder_holding_another_world(tiny: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny, copy)
    with pytest.raises(ValueError, match="already holds"):
        generate_crosstask(copy, size="tiny", seed=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": "huge"}, "tiny, small, medium, full"),
        ({"size": "tiny", "dim": 4}, ">= 8"),
        ({"size": "tiny", "dim": 12.0}, ">= 8"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_crosstask(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir()), "nothing is written for bad arguments"


# --------------------------------------------------------------------------------------------
# Sizes and vocabulary


def test_full_and_medium_counts() -> None:
    full = build_world("full", dim=8)
    primary = [t for t in full.tasks if t.primary]
    related = [t for t in full.tasks if not t.primary]
    assert (len(primary), len(related)) == (18, 65)
    assert sum(len(t.videos) for t in full.tasks) == 4700
    assert sum(len(t.videos) for t in primary) == 2750
    assert all(len(t.val) == 20 for t in primary)
    assert sum(t.task.n_steps for t in primary) == 133
    medium = build_world("medium", dim=8)
    assert [len(t.videos) for t in medium.tasks] == [45] * 18 + [15] * 65
    assert 300 <= len(medium.components) <= 400


def test_vocabulary() -> None:
    tasks = vocab.PRIMARY_TASKS + vocab.RELATED_TASKS
    assert len({t.task_id for t in tasks}) == 83
    assert all("," not in s and s == s.strip() for t in tasks for s in t.steps)
    assert all(3 <= len(t.steps) <= 11 for t in vocab.PRIMARY_TASKS)
    words = {w for t in tasks for s in t.steps for w in vocab.tokens(s)}
    assert 300 <= len(words) <= 400
    assert vocab.components("put bananas in blender") == ("put", "banana", "blender")
    assert vocab.components("cut strawberries") == ("cut", "strawberry")
    assert vocab.components("pour mixture into glass") == ("pour", "mixture", "glass")
    primary = {c for t in vocab.PRIMARY_TASKS for s in t.steps for c in vocab.components(s)}
    related = {c for t in vocab.RELATED_TASKS for s in t.steps for c in vocab.components(s)}
    assert len(primary & related) >= 0.8 * len(primary)


def test_order_consistency() -> None:
    assert order_consistency([2, 1, 3]) == pytest.approx(2 / 3)
    assert order_consistency([1, 2, 3, 4]) == 1.0
    assert order_consistency([4, 3, 2, 1]) == 0.25


# --------------------------------------------------------------------------------------------
# Statistics and learnability (small world)


def test_small_world_statistics(small: CrossTaskData) -> None:
    background, missing, order = [], [], []
    for tid, task in small.primary.items():
        assert 3 <= task.n_steps <= 11
        for vid in small.videos[tid]:
            y = small.ground_truth(tid, vid)
            background.append(1 - y.any(axis=1).mean())
            missing.append(1 - y.any(axis=0).mean())
            segments = sorted(small.segments(tid, vid), key=lambda s: s.start)
            order.append(order_consistency([s.step for s in segments]))
    assert 0.6 <= np.mean(background) <= 0.85
    assert 0.15 <= np.mean(missing) <= 0.45
    assert 0.75 <= np.mean(order) < 0.97, "mostly ordered, some adjacent swaps"


def _step_means(data: CrossTaskData) -> dict[tuple[str, int], np.ndarray]:
    sums: dict[tuple[str, int], np.ndarray] = {}
    counts: dict[tuple[str, int], int] = {}
    for tid, task in data.primary.items():
        for vid in data.videos[tid]:
            feats = np.asarray(data.features(vid), dtype=np.float64)
            y = data.ground_truth(tid, vid)
            for k in range(task.n_steps):
                rows = y[:, k].astype(bool)
                if rows.any():
                    key = (tid, k)
                    sums[key] = sums.get(key, 0) + feats[rows].sum(axis=0)
                    counts[key] = counts.get(key, 0) + int(rows.sum())
    return {key: sums[key] / counts[key] for key in sums}


def test_steps_sharing_words_look_alike_across_tasks(small: CrossTaskData) -> None:
    means = _step_means(small)
    centre = np.mean(list(means.values()), axis=0)
    unit = {k: (v - centre) / np.linalg.norm(v - centre) for k, v in means.items()}
    words = {(tid, k): set(vocab.components(small.task(tid).steps[k])) for tid, k in means}
    sharing, disjoint = [], []
    for a, b in itertools.combinations(means, 2):
        if a[0] == b[0]:
            continue
        cos = float(unit[a] @ unit[b])
        (sharing if words[a] & words[b] else disjoint).append(cos)
    assert len(sharing) >= 10 and len(disjoint) >= 10
    assert np.mean(sharing) > np.mean(disjoint) + 0.1


def test_step_frames_are_learnable_but_noisy(small: CrossTaskData) -> None:
    """Nearest class mean on step frames (train/test split by video) beats chance by 2x."""
    ratios = []
    for tid, task in small.primary.items():
        vids = small.videos[tid]
        half = len(vids) // 2
        data = {}
        for part, chosen in (("train", vids[:half]), ("test", vids[half:])):
            xs, ys = [], []
            for vid in chosen:
                y = small.ground_truth(tid, vid)
                rows = y.any(axis=1)
                xs.append(np.asarray(small.features(vid))[rows])
                ys.append(y[rows].argmax(axis=1))
            data[part] = (np.concatenate(xs), np.concatenate(ys))
        x, y = data["train"]
        labels = np.unique(y)
        means = np.stack([x[y == k].mean(axis=0) for k in labels])
        xt, yt = data["test"]
        pred = labels[np.argmin(((xt[:, None, :] - means[None]) ** 2).sum(-1), axis=1)]
        ratios.append((pred == yt).mean() * task.n_steps)
    assert np.mean(ratios) > 2.0, ratios
    assert np.mean(ratios) < 0.95 * np.mean([t.n_steps for t in small.primary.values()]), (
        "not perfectly separable"
    )


def test_step_progress_orders_action_frames_not_background(small: CrossTaskData) -> None:
    """Along the direction that best predicts time on step frames, time order of step frames is
    predictable and that of background frames (intro and outro excluded) much less."""
    xs, ts, is_step = [], [], []
    for tid in small.primary:
        for vid in small.videos[tid]:
            feats = np.asarray(small.features(vid), dtype=np.float64)
            y = small.ground_truth(tid, vid).any(axis=1)
            first, last = np.flatnonzero(y)[[0, -1]]
            keep = np.zeros(len(y), dtype=bool)
            keep[first : last + 1] = True
            xs.append(feats[keep] - feats.mean(axis=0))
            ts.append(np.linspace(0, 1, len(y))[keep])
            is_step.append(y[keep])
    x, t, s = np.concatenate(xs), np.concatenate(ts), np.concatenate(is_step)
    w = np.linalg.lstsq(x[s], t[s] - t[s].mean(), rcond=None)[0]
    step_corr = np.corrcoef(x[s] @ w, t[s])[0, 1]
    background_corr = np.corrcoef(x[~s] @ w, t[~s])[0, 1]
    assert step_corr > 0.35
    assert abs(background_corr) < 0.2
