"""The CrossTask data layer: round trips, the ground-truth row rule, and every error message."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from instructvid.io.crosstask import (
    CrossTaskData,
    CrossTaskFormatError,
    Segment,
    SegmentClippedWarning,
    Task,
    VideoEntry,
    open_features,
    read_segments,
    read_task_cards,
    read_video_list,
    segments_to_matrix,
    write_features,
    write_segments,
    write_task_cards,
    write_video_list,
)
from tests.worlds import mini_dataset

CARD = """23521
Make Jello Shots
http://www.wikihow.com/Make-Jello-Shots
6
pour water,pour juice,pour jello powder,pour alcohol,stir mixture,pour mixture into cup

59684
Make Lemonade
http://www.wikihow.com/Make-Lemonade
3
squeeze lemon,add sugar,stir mixture
"""


def test_read_real_task_card_format(tmp_path: Path) -> None:
    path = tmp_path / "tasks_primary.txt"
    path.write_text(CARD)
    tasks = read_task_cards(path)
    assert list(tasks) == ["23521", "59684"]
    assert tasks["23521"].title == "Make Jello Shots"
    assert tasks["23521"].n_steps == 6
    assert tasks["23521"].steps[-1] == "pour mixture into cup"
    assert tasks["59684"].steps == ("squeeze lemon", "add sugar", "stir mixture")


def test_task_cards_round_trip(tmp_path: Path) -> None:
    tasks = [
        Task("1", "Make Tea", "http://x", ("boil water", "add tea")),
        Task("2", "Jack Up Car", "http://y", ("loosen nut", "jack up car", "remove wheel")),
    ]
    path = write_task_cards(tmp_path / "cards.txt", tasks)
    assert list(read_task_cards(path).values()) == tasks


def test_card_with_wrong_step_count_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "tasks.txt"
    path.write_text(CARD.replace("\n6\n", "\n5\n"))
    with pytest.raises(CrossTaskFormatError) as info:
        read_task_cards(path)
    assert info.value.line == 4
    assert "says it has 5 steps but lists 6" in str(info.value)
    assert str(path) in str(info.value)


def test_truncated_card_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "tasks.txt"
    path.write_text("1\nMake Tea\nhttp://x\n2\n")
    with pytest.raises(CrossTaskFormatError, match="truncated task card"):
        read_task_cards(path)


def test_non_integer_step_count(tmp_path: Path) -> None:
    path = tmp_path / "tasks.txt"
    path.write_text("1\nMake Tea\nhttp://x\ntwo\nboil water,add tea\n")
    with pytest.raises(CrossTaskFormatError, match="number of steps") as info:
        read_task_cards(path)
    assert info.value.line == 4


def test_video_list_round_trip_and_duplicates(tmp_path: Path) -> None:
    entries = [VideoEntry("1", "abc-_123XYZ", "https://www.youtube.com/watch?v=abc-_123XYZ")]
    path = write_video_list(tmp_path / "videos.csv", entries)
    assert read_video_list(path) == entries
    path.write_text("1,a,u\n1,b,u\n1,a,u\n")
    with pytest.raises(CrossTaskFormatError, match="listed twice") as info:
        read_video_list(path)
    assert info.value.line == 3


def test_video_list_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "videos.csv"
    path.write_text("1,a,u\njustonefield\n")
    with pytest.raises(CrossTaskFormatError, match="task_id,video_id,url") as info:
        read_video_list(path)
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("7,1.0,2.0", "outside 1..6"),
        ("0,1.0,2.0", "outside 1..6"),
        ("2,5.0,3.0", "start (5 s) is after end (3 s)"),
        ("2,-1.0,3.0", ">= 0 seconds"),
        ("2,1.0", "expected 3 fields"),
        ("x,1.0,2.0", "integer step index"),
        ("2,a,2.0", "start and end times"),
        ("2,1.0,inf", "finite"),
    ],
)
def test_bad_segment_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "23521_vid.csv"
    path.write_text(f"1,0.5,2.5\n{line}\n")
    with pytest.raises(CrossTaskFormatError) as info:
        read_segments(path, n_steps=6)
    assert message in str(info.value)
    assert info.value.line == 2
    assert f"{path}, line 2" in str(info.value)


def test_segments_round_trip(tmp_path: Path) -> None:
    segs = [Segment(1, 0.5, 2.25), Segment(3, 10.0, 12.125)]
    path = write_segments(tmp_path / "a.csv", segs)
    assert read_segments(path, n_steps=3) == segs


@given(
    start=st.floats(0, 50, allow_nan=False),
    length=st.floats(0, 20, allow_nan=False),
)
def test_ground_truth_rows_follow_floor_ceil_rule(start: float, length: float) -> None:
    end = start + length
    y = segments_to_matrix([Segment(2, start, end)], 100, 3)
    rows = np.flatnonzero(y[:, 1])
    expected = list(range(math.floor(start), math.ceil(end)))
    assert rows.tolist() == expected
    assert y[:, [0, 2]].sum() == 0


def test_authors_example_rows() -> None:
    # A segment [3.2, 7.0] covers seconds 3, 4, 5, 6 (floor(3.2) .. ceil(7.0)-1).
    y = segments_to_matrix([Segment(1, 3.2, 7.0)], 10, 1)
    assert np.flatnonzero(y[:, 0]).tolist() == [3, 4, 5, 6]


def test_segment_past_the_end_is_clipped_with_warning() -> None:
    with pytest.warns(SegmentClippedWarning, match="runs past the end"):
        y = segments_to_matrix([Segment(1, 8.5, 14.0)], 10, 1, source="x.csv")
    assert np.flatnonzero(y[:, 0]).tolist() == [8, 9]


def test_features_open_memory_mapped(tmp_path: Path) -> None:
    arr = np.arange(12, dtype=np.float32).reshape(4, 3)
    path = write_features(tmp_path / "v.npy", arr)
    feats = open_features(path, check_finite=True)
    assert isinstance(feats, np.memmap)
    assert not feats.flags.writeable
    np.testing.assert_array_equal(feats, arr)


def test_missing_empty_and_nonfinite_features(tmp_path: Path) -> None:
    with pytest.raises(CrossTaskFormatError, match="not found"):
        open_features(tmp_path / "nope.npy")
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    with pytest.raises(CrossTaskFormatError, match="is empty"):
        open_features(empty)
    zero_rows = write_features(tmp_path / "zero.npy", np.zeros((0, 4)))
    with pytest.raises(CrossTaskFormatError, match="empty"):
        open_features(zero_rows)
    bad = np.zeros((5000, 2), dtype=np.float32)
    bad[4321, 1] = np.nan
    path = write_features(tmp_path / "nan.npy", bad)
    open_features(path)  # the header alone is fine
    with pytest.raises(CrossTaskFormatError, match="feature row 4321"):
        open_features(path, check_finite=True)
    np.save(tmp_path / "one_d.npy", np.zeros(5, dtype=np.float32))
    with pytest.raises(CrossTaskFormatError, match=r"2-D \(T, D\)"):
        open_features(tmp_path / "one_d.npy")


def test_dataset_open_and_matrices(tmp_path: Path) -> None:
    data = CrossTaskData.open(mini_dataset(tmp_path))
    assert list(data.primary) == ["1"] and list(data.related) == ["2"]
    assert data.non_val_videos("1") == ["a"]
    gt = data.ground_truth("1", "a")
    assert gt.shape == (20, 2)
    assert np.flatnonzero(gt[:, 0]).tolist() == [2, 3, 4]
    assert np.flatnonzero(gt[:, 1]).tolist() == [9, 10, 11]
    cons = data.constraints("1", "a")
    assert np.flatnonzero(cons[:, 0]).tolist() == list(range(8))
    assert data.n_frames("c") == 20


def test_dataset_overrides(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path / "elsewhere")
    data = CrossTaskData.open(
        None,
        release=root / "crosstask_release",
        features=root / "crosstask_features",
        constraints=root / "crosstask_constraints",
    )
    assert data.n_frames("a") == 20


def test_video_shorter_than_its_steps_is_an_error(tmp_path: Path) -> None:
    data = CrossTaskData.open(mini_dataset(tmp_path, n_frames=1))
    with pytest.raises(CrossTaskFormatError, match="at least one second per step"):
        data.ground_truth("1", "a")


def test_unknown_task_in_video_list(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path)
    (root / "crosstask_release" / "videos.csv").write_text("1,a,u\n99,z,u\n")
    with pytest.raises(CrossTaskFormatError, match="task id 99") as info:
        CrossTaskData.open(root)
    assert info.value.line == 2


def test_unknown_task_is_reported_at_its_line_after_blank_lines(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path)
    (root / "crosstask_release" / "videos.csv").write_text("\n1,a,u\n\n\n99,z,u\n")
    with pytest.raises(CrossTaskFormatError, match="task id 99") as info:
        CrossTaskData.open(root)
    assert info.value.line == 5  # the file's line, not the entry's index (2)
    entries = read_video_list(root / "crosstask_release" / "videos.csv")
    assert [e.line for e in entries] == [2, 5]
    assert entries[0] == VideoEntry("1", "a", "u")  # the line takes no part in equality


def test_tasks_are_merged_once_not_on_every_lookup(tmp_path: Path) -> None:
    data = CrossTaskData.open(mini_dataset(tmp_path))
    merged = data.tasks
    assert sorted(merged) == ["1", "2"]
    assert data.task("2") is merged["2"] and data.tasks is merged
    with pytest.raises(KeyError, match="unknown task id '3'"):
        data.task("3")
