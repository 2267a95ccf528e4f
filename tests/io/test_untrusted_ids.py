"""Every reader of io/ refuses ids that could name a path outside their folder.

Each family (CrossTask lists and cards, COIN, proposals, HowTo100M captions, subtitle and score
folders) gets the same traversal ids; the error names the file and the line, and nothing is
created outside the temporary folder (listed before and after).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.coin import read_coin
from instructvid.io.crosstask import (
    CrossTaskData,
    CrossTaskFormatError,
    read_task_cards,
    read_video_list,
)
from instructvid.io.crosstask_check import check_dataset
from instructvid.io.errors import FormatError
from instructvid.io.ids import UnsafePathError, is_valid_id, json_key_line
from instructvid.io.proposals import read_proposals
from instructvid.io.scores import ActionnessDir, StepScoresDir
from instructvid.io.subtitles import find_subtitles, read_howto100m_json
from tests.worlds import mini_dataset, random_world

#: The traversal ids of the issue: relative, nested, absolute, parent, NUL byte, Windows.
TRAVERSAL = ["../x", "a/b", "/tmp/abs_x", "..", "a\x00b", "..\\x"]
ROOT = Path(__file__).resolve().parents[2]


def _tree(folder: Path) -> list[str]:
    """Every path under ``folder`` (relative), sorted: what a test compares before and after."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_videos_csv_refuses_a_traversal_video_id_with_file_and_line(
    tmp_path: Path, bad: str
) -> None:
    root = mini_dataset(tmp_path / "data")
    videos = root / "crosstask_release" / "videos.csv"
    with open(videos, "a", encoding="utf-8") as handle:
        handle.write(f"\n1,{bad},https://example.com\n")  # a blank line first: line 5
    before = _tree(tmp_path)
    with pytest.raises(FormatError) as info:
        read_video_list(videos)
    assert info.value.path == videos and info.value.line == 5
    assert repr(bad) in str(info.value) and "videos.csv, line 5" in str(info.value)
    with pytest.raises(FormatError, match="line 5"):
        CrossTaskData.open(root)
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_task_cards_refuse_a_traversal_task_id(tmp_path: Path, bad: str) -> None:
    cards = tmp_path / "tasks_primary.txt"
    cards.write_text(f"1\nA\nu\n1\nstep\n\n{bad}\nB\nu\n1\nstep\n\n", encoding="utf-8")
    with pytest.raises(FormatError) as info:
        read_task_cards(cards)
    assert info.value.path == cards and info.value.line == 7
    assert "task id" in str(info.value)


def test_check_lists_every_invalid_id_with_the_other_problems(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path)
    release = root / "crosstask_release"
    with open(release / "videos.csv", "a", encoding="utf-8") as handle:
        handle.write("87706,../../../../escaped_eRoro2TFF6B,https://www.youtube.com/x\n")
        handle.write("1,a/b,u\n")
        handle.write("9,ok_video,u\n")  # a task in no card file
    (root / "crosstask_features" / "c.npy").unlink()  # an unrelated problem
    errors = [str(p) for p in check_dataset(root) if p.severity == "error"]
    assert any(
        "videos.csv, line 4" in e and "'../../../../escaped_eRoro2TFF6B'" in e for e in errors
    )
    assert any("videos.csv, line 5" in e and "'a/b'" in e for e in errors)
    assert any("videos.csv, line 6" in e and "task id 9" in e for e in errors)
    assert any("c.npy" in e and "not found" in e for e in errors)
    assert not any("escaped" in e and "annotations" in e for e in errors)
    assert len(errors) == 4


def test_a_feature_symlink_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path / "data")
    outside = tmp_path / "secret.npy"
    np.save(outside, np.zeros((20, 4), dtype=np.float32))
    feature = root / "crosstask_features" / "a.npy"
    feature.unlink()
    os.symlink(outside, feature)
    data = CrossTaskData.open(root)
    with pytest.raises(CrossTaskFormatError, match="leads outside"):
        data.features("a")
    errors = [str(p) for p in check_dataset(root) if p.severity == "error"]
    assert any("a.npy" in e and "leads outside" in e for e in errors)


def test_a_symlinked_features_folder_is_fine(tmp_path: Path) -> None:
    """Only what leaves the folder is refused: the folder itself may live elsewhere."""
    root = mini_dataset(tmp_path / "data")
    moved = tmp_path / "elsewhere"
    (root / "crosstask_features").rename(moved)
    os.symlink(moved, root / "crosstask_features")
    assert CrossTaskData.open(root).features("a").shape == (20, 4)


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_coin_refuses_a_traversal_video_id_with_its_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "coin.json"
    entry = {"subset": "testing", "duration": 10.0, "annotation": []}
    path.write_text(json.dumps({"database": {"ok1": entry, bad: entry}}, indent=1))
    with pytest.raises(FormatError) as info:
        read_coin(path)
    assert info.value.path == path and info.value.line == 8  # the line of the key
    assert "video id" in str(info.value) and repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_proposals_refuse_a_traversal_video_id(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"results": {"v": [], bad: []}}, indent=2))
    with pytest.raises(FormatError) as info:
        read_proposals(path)
    assert info.value.path == path and info.value.line == 4


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_howto100m_captions_refuse_a_traversal_video_id(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "caps.json"
    path.write_text(json.dumps({bad: {"start": [0], "end": [1], "text": ["hi"]}}, indent=1))
    with pytest.raises(FormatError) as info:
        read_howto100m_json(path)
    assert info.value.path == path and info.value.line == 2


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_subtitle_lookup_stays_in_its_folder(tmp_path: Path, bad: str) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    (tmp_path / "x.vtt").write_text("WEBVTT\n")  # what "../x" would reach
    try:
        found = find_subtitles(folder, bad)
    except UnsafePathError:
        return
    assert found is None  # "a/b": inside the folder, and absent


def test_subtitle_symlink_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    (tmp_path / "secret.vtt").write_text("WEBVTT\n")
    os.symlink(tmp_path / "secret.vtt", folder / "v1.vtt")
    with pytest.raises(UnsafePathError):
        find_subtitles(folder, "v1")


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_score_folders_refuse_traversal_ids_and_write_nothing(tmp_path: Path, bad: str) -> None:
    out = tmp_path / "out"
    actionness = ActionnessDir(out / "act", create=True)
    steps = StepScoresDir(out / "steps", create=True)
    before = _tree(tmp_path)
    with pytest.raises(FormatError):
        actionness.write(bad, np.ones(5))
    with pytest.raises(FormatError):
        actionness.read(bad)
    with pytest.raises(FormatError):
        steps.write("1", bad, np.ones((5, 2)))
    with pytest.raises(FormatError):
        steps.write(bad, "v", np.ones((5, 2)))
    with pytest.raises(FormatError):
        steps.has(bad, "v")
    assert _tree(tmp_path) == before


def test_score_symlink_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "secret.npy", np.ones(5))
    folder = ActionnessDir(tmp_path / "act", create=True)
    os.symlink(tmp_path / "secret.npy", tmp_path / "act" / "v.npy")
    with pytest.raises(UnsafePathError):
        folder.read("v")


def test_json_key_line() -> None:
    text = '{\n "a": 1,\n "b\\u0000c" :\n 2}'
    assert json_key_line(text, "a") == 2
    assert json_key_line(text, "b\x00c") == 3
    assert json_key_line(text, "zz") is None


# ------------------------------------------------------------------------------------------
# Real and synthetic id sets still pass


def _coin_file() -> Path | None:
    env = os.environ.get("INSTRUCTVID_COIN")
    candidates = [Path(env)] if env else []
    # ../shared/data beside the repository (also from a worktree one level deeper)
    candidates += [ROOT.parent / "shared" / "data" / "coin", ROOT.parents[1] / "shared" / "data"]
    for c in candidates:
        path = c / "COIN_annotations.json" if c.is_dir() else c
        if not path.is_file() and c.is_dir():
            path = c / "coin" / "COIN_annotations.json"
        if path.is_file():
            return path
    return None


COIN = _coin_file()


@pytest.mark.skipif(COIN is None, reason="real COIN annotations not available")
def test_every_real_coin_id_passes() -> None:
    assert COIN is not None
    videos = read_coin(COIN)
    assert len(videos) == 10_937
    assert all(is_valid_id(v) for v in videos)


def test_every_id_of_the_synthetic_worlds_passes(tmp_path: Path) -> None:
    root = random_world(tmp_path / "w")
    data = CrossTaskData.open(root)  # raises on any invalid id
    assert sum(1 for _ in data.iter_videos()) == 25
    assert [p for p in check_dataset(root) if p.severity == "error"] == []


def test_every_id_of_the_generated_worlds_passes(tmp_path: Path) -> None:
    from instructvid.synth.actionness import generate_actionness_world
    from instructvid.synth.crosstask.generate import generate_crosstask

    root = generate_crosstask(tmp_path / "crosstask", size="tiny", seed=0)
    errors = [p for p in check_dataset(root, check_finite=False) if p.severity == "error"]
    assert errors == []
    world = generate_actionness_world(tmp_path / "actionness", size="tiny", seed=0)
    videos = read_coin(world.annotations)
    assert videos and all(ActionnessDir(world.features).has(v) for v in videos)
