"""Narration → constraints (instructvid.steps.narration.constraints) and their evaluation (constraint_eval)."""

from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.crosstask import CrossTaskData, Segment, read_segments
from instructvid.io.subtitles import EmptySubtitlesWarning, TimedWord
from instructvid.steps.narration.constraints import build_constraints, intervals_from_matches
from instructvid.steps.narration.corpus import SubtitleSkippedWarning
from instructvid.steps.narration.evaluation import evaluate_folder, evaluation_videos
from instructvid.steps.narration.matching import StepMatch, match_steps, ordered_peaks
from instructvid.steps.narration.metrics import (
    ConstraintCounts,
    ScoredInterval,
    constraint_counts,
    random_intervals,
    select_threshold,
    summarize,
)
from instructvid.synth.crosstask.generate import generate_crosstask
from instructvid.text.tfidf import TfidfEncoder

FILLER = "so yeah as you can see it is really easy and you do not need a lot".split()
STEPS = ["add flour", "whisk egg", "bake cake"]


def _narration(mentions: dict[int, str], n_words: int = 120) -> list[TimedWord]:
    """Filler words, 0.5 s each, with the given phrases starting at the given word indices."""
    words = [FILLER[i % len(FILLER)] for i in range(n_words)]
    for at, phrase in mentions.items():
        for j, w in enumerate(phrase.split()):
            words[at + j] = w
    return [TimedWord(w, 0.5 * i, 0.5 * i + 0.4) for i, w in enumerate(words)]


def test_matcher_recovers_planted_mentions_in_order_and_ignores_a_spurious_one() -> None:
    # "add flour" is said again, more strongly, at word 100, after "bake cake": out of order.
    words = _narration({20: "now add the flour", 50: "whisk the egg", 80: "bake the cake",
                        100: "add flour add flour"})  # fmt: skip
    encoder = TfidfEncoder().fit([" ".join(w.word for w in words), *STEPS])
    matches = match_steps(words, STEPS, encoder, window=6)
    assert [m.step for m in matches] == [1, 2, 3]
    # Centre words: "add"/"the"/"flour" (21-23), "whisk"/"the"/"egg" (50-52), 80-82.
    assert 21 <= matches[0].time / 0.5 <= 23.5
    assert 50 <= matches[1].time / 0.5 <= 52.5
    assert 80 <= matches[2].time / 0.5 <= 82.5
    assert all(m.score > 0.4 for m in matches)
    assert matches[0].first_word <= 22 <= matches[0].last_word < matches[1].first_word
    # Without ordering, step 1's best window is the spurious, late one.
    sim = encoder.window_similarity([w.word for w in words], STEPS, window=6)
    assert 98 <= int(np.argmax(sim[:, 0])) <= 106


def test_ordered_peaks_runs_are_ordered_and_disjoint() -> None:
    rng = np.random.default_rng(0)
    sim = rng.random((40, 4))
    peaks = ordered_peaks(sim)
    for k, (peak, first, last) in enumerate(peaks):
        assert first <= peak <= last
        assert sim[peak, k] == sim[first : last + 1, k].max()
        if k:
            assert peaks[k - 1][2] < first
    with pytest.raises(ValueError):
        ordered_peaks(sim[:3])


def test_intervals_around_matches() -> None:
    matches = [StepMatch(1, 2.0, 0.9, 0, 1), StepMatch(2, 50.0, 0.3, 2, 3)]
    out = intervals_from_matches(matches, duration=52.0, length=9.0)
    assert out == [
        ScoredInterval(Segment(1, 0.0, 6.5), 0.9),  # clipped at 0
        ScoredInterval(Segment(2, 45.5, 52.0), 0.3),  # clipped at the end
    ]
    shifted = intervals_from_matches(matches[:1], duration=52.0, length=4.0, shift=3.0)
    assert shifted[0].segment == Segment(1, 3.0, 7.0)


def test_precision_recall_f1_hand_example() -> None:
    # T = 20 s, K = 3. Ground truth: step 1 at [2, 5), step 2 at [10, 12); step 3 absent.
    gt = np.zeros((20, 3), dtype=np.uint8)
    gt[2:5, 0] = 1
    gt[10:12, 1] = 1
    constraints = [
        Segment(1, 4.0, 8.0),  # hit: shares second 4 (rows 4..7)
        Segment(2, 0.0, 3.0),  # miss: rows 0..2, step 2 is at 10..11
        Segment(3, 15.0, 17.0),  # step 3 is absent: not a hit
    ]
    c = constraint_counts(constraints, gt)
    assert (c.intervals, c.hits, c.present, c.found, c.outside) == (3, 1, 2, 1, 1)
    r = c.ratios()
    assert r["precision"] == pytest.approx(1 / 3)
    assert r["recall"] == pytest.approx(1 / 2)
    assert r["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    # cells: C = 4 + 3 + 2 = 9, G = 5, C ∧ G = 1 (second 4 of step 1), C ∨ G = 13
    assert r["frame_precision"] == pytest.approx(1 / 9)
    assert r["frame_recall"] == pytest.approx(1 / 5)
    assert r["iou"] == pytest.approx(1 / 13)
    assert r["outside"] == pytest.approx(1 / 2)
    # Mean over tasks: task "b" has a perfect video.
    perfect = constraint_counts([Segment(1, 2.0, 5.0), Segment(2, 10.0, 12.0)], gt)
    summary = summarize([("a", c), ("b", perfect)], method="x")
    assert summary["mean"]["precision"] == pytest.approx((1 / 3 + 1) / 2)
    assert summary["pooled"]["precision"] == pytest.approx(3 / 5)
    assert summary["n_videos"] == 2 and summary["per_task"]["b"]["recall"] == 1.0
    assert ConstraintCounts().ratios()["precision"] != ConstraintCounts().ratios()["precision"]


def test_threshold_selection_maximises_f1_on_a_hand_made_case() -> None:
    gt = np.zeros((30, 4), dtype=np.uint8)
    gt[0:3, 0] = gt[10:13, 1] = gt[20:23, 2] = 1  # 3 present steps; step 4 absent
    scored = [
        ScoredInterval(Segment(1, 0, 2), 0.9),  # hit
        ScoredInterval(Segment(2, 10, 12), 0.8),  # hit
        ScoredInterval(Segment(4, 25, 27), 0.7),  # miss (absent step)
        ScoredInterval(Segment(3, 25, 27), 0.6),  # miss (wrong place)
    ]
    # Keep ≥0.9: F1 = 2/(1+3) = .5; ≥0.8: 4/5 = .8; ≥0.7: 4/6; ≥0.6: 4/7.
    threshold, scores = select_threshold([(scored, gt)])
    assert threshold == 0.8
    assert scores == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "intervals": 2})
    # A later hit at 0.5 makes keeping everything best: 6/8 = .75 < .8 still; at 0.55 two hits.
    more = [*scored, ScoredInterval(Segment(3, 20, 22), 0.5)]
    threshold, scores = select_threshold([(more, gt)])
    assert threshold == 0.8  # 2·3/(5+3) = .75 < .8
    # Ties: equal scores are kept or dropped together; among equal F1, the lower threshold.
    tied = [ScoredInterval(Segment(1, 0, 2), 0.5), ScoredInterval(Segment(2, 0, 2), 0.5)]
    threshold, scores = select_threshold([(tied, gt)])
    assert threshold == 0.5 and scores["intervals"] == 2
    assert select_threshold([([], gt)])[0] == -math.inf


def test_random_intervals_keep_steps_and_lengths() -> None:
    rng = np.random.default_rng(0)
    segs = [Segment(1, 0.0, 9.0), Segment(3, 40.0, 45.0), Segment(2, 0.0, 80.0)]
    for _ in range(20):
        moved = random_intervals(segs, 50.0, rng)
        assert [m.step for m in moved] == [1, 3, 2]
        assert [round(m.end - m.start, 3) for m in moved] == [9.0, 5.0, 50.0]
        assert all(0 <= m.start and m.end <= 50.0 for m in moved)


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_crosstask(tmp_path_factory.mktemp("world") / "tiny", size="tiny", seed=0)


def _snapshot(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_build_constraints_resumes_and_never_writes_the_dataset(
    tiny_world: Path, tmp_path: Path
) -> None:
    data = CrossTaskData.open(tiny_world)
    before = _snapshot(tiny_world)
    out = tmp_path / "out"
    run = build_constraints(data, tiny_world / "subtitles", out, text="tfidf")
    n_videos = sum(len(v) for v in data.videos.values())
    assert run.matched_now == n_videos and run.status == {"ok": n_videos}
    assert run.validation is not None and 0 <= run.validation["f1"] <= 1
    csvs = sorted(out.glob("*.csv"))
    assert len(csvs) == n_videos
    task_id, vid = csvs[0].stem.split("_", 1)
    segments = read_segments(csvs[0], n_steps=data.task(task_id).n_steps)
    assert all(s.end - s.start <= 9.0 + 1e-9 for s in segments)
    assert [s.step for s in segments] == sorted(s.step for s in segments)
    # Resume: nothing to match again; one removed result is redone.
    again = build_constraints(data, tiny_world / "subtitles", out, text="tfidf")
    assert again.matched_now == 0 and again.threshold == run.threshold
    (out / "matches" / f"{task_id}_{vid}.json").unlink()
    assert build_constraints(data, tiny_world / "subtitles", out, text="tfidf").matched_now == 1
    # A threshold by hand above any cosine: every CSV empty; other matching parameters refused.
    build_constraints(data, tiny_world / "subtitles", out, text="tfidf", threshold=1.01)
    assert all(p.read_text() == "" for p in out.glob("*.csv"))
    with pytest.raises(ValueError, match="other matching parameters"):
        build_constraints(data, tiny_world / "subtitles", out, text="tfidf", window=5)
    assert _snapshot(tiny_world) == before


def test_bad_subtitles_give_no_constraints_with_a_warning(tiny_world: Path, tmp_path: Path) -> None:
    data = CrossTaskData.open(tiny_world)
    subtitles = tmp_path / "subs"
    shutil.copytree(tiny_world / "subtitles", subtitles)
    task_id = next(iter(data.primary))
    empty, broken, gone = data.videos[task_id][:3]
    (subtitles / f"{empty}.vtt").write_text("WEBVTT\n\n")
    (subtitles / f"{broken}.vtt").write_text("WEBVTT\n\n00:00:01.000 --> nonsense\nhi\n")
    (subtitles / f"{gone}.vtt").unlink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = build_constraints(data, subtitles, tmp_path / "out", text="tfidf", task_ids=[task_id])
    messages = [str(w.message) for w in caught]
    assert any(issubclass(w.category, EmptySubtitlesWarning) for w in caught)
    assert any(f"{broken}.vtt, line 3" in m for m in messages)
    assert any("1 of" in m and "no subtitle file" in m for m in messages)
    assert any(issubclass(w.category, SubtitleSkippedWarning) for w in caught)
    assert run.status["empty"] == 1 and run.status["malformed"] == 1 and run.status["missing"] == 1
    for vid in (empty, broken, gone):
        assert not (tmp_path / "out" / f"{task_id}_{vid}.csv").exists()


def test_evaluate_folder_and_random_baseline(tiny_world: Path) -> None:
    data = CrossTaskData.open(tiny_world)
    videos = evaluation_videos(data)
    assert videos and all(v not in data.val_videos[t] for t, v in videos)
    released = evaluate_folder(data, data.paths.constraints, videos, method="released")
    assert released["n_videos"] == len(videos)
    assert 0 < released["mean"]["recall"] <= 1
    rnd = evaluate_folder(data, data.paths.constraints, videos, method="r", random_draws=3)
    assert rnd["counts"]["intervals"] == 3 * released["counts"]["intervals"]
