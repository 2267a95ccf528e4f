"""Per-video score arrays: readers name the file and what was expected; writers round-trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from instructvid.io.scores import (
    ActionnessDir,
    ScoreFileError,
    ScoreFileNotFoundError,
    StepScoresDir,
    read_actionness,
    read_step_scores,
    write_actionness,
    write_step_scores,
)


def test_actionness_round_trip_and_dtype(tmp_path: Path) -> None:
    s = np.linspace(-1, 1, 7, dtype=np.float32)
    path = write_actionness(tmp_path / "a" / "v1.npy", s)
    back = read_actionness(path, n_seconds=7)
    assert back.dtype == np.float64 and back.shape == (7,)
    np.testing.assert_array_equal(back, s.astype(np.float64))
    assert ActionnessDir(tmp_path / "a").read("v1", n_seconds=7).shape == (7,)


@pytest.mark.parametrize(
    ("values", "n_seconds", "message"),
    [
        (np.zeros((7, 2)), None, r"expected per-second actionness of shape \(T,\).*\(7, 2\)"),
        (np.zeros(0), None, r"shape \(T,\) with T >= 1, got shape \(0,\)"),
        (np.zeros(6), 7, r"6 seconds but the video has 7 feature rows; expected shape \(7,\)"),
        (np.array([0.0, np.nan, 1.0]), None, "NaN or inf .*row 1 = second 1"),
        (np.array([0.0, 1.0, np.inf]), 3, "NaN or inf .*row 2"),
        (np.array(["a", "b"]), None, "must be real numbers"),
    ],
)
def test_actionness_errors_name_the_file(
    tmp_path: Path, values: np.ndarray, n_seconds: int | None, message: str
) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, values)
    with pytest.raises(ScoreFileError, match=message) as info:
        read_actionness(path, n_seconds=n_seconds)
    assert str(path) in str(info.value)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        (np.zeros(5), {}, r"shape \(T, K\) \(seconds, steps\), got shape \(5,\)"),
        (np.zeros((5, 0)), {}, r"got shape \(5, 0\)"),
        (np.zeros((5, 3)), {"n_seconds": 6}, r"5 rows but the video has 6 feature rows.*\(6, K\)"),
        (np.zeros((5, 3)), {"n_steps": 4}, r"3 columns but the task has 4 steps.*\(T, 4\)"),
        (np.full((5, 3), np.nan), {"n_seconds": 5, "n_steps": 3}, "NaN or inf .*row 0"),
    ],
)
def test_step_score_errors_name_the_file(
    tmp_path: Path, values: np.ndarray, kwargs: dict, message: str
) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, values)
    with pytest.raises(ScoreFileError, match=message) as info:
        read_step_scores(path, **kwargs)
    assert str(path) in str(info.value)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ScoreFileNotFoundError, match=r"missing\.npy: no per-second actionness"):
        read_actionness(tmp_path / "missing.npy")
    # A missing file is both a FileNotFoundError and a ValueError (command lines catch either).
    with pytest.raises(FileNotFoundError):
        read_step_scores(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match=r"missing\.npy"):
        read_step_scores(tmp_path / "missing.npy")
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not an array")
    with pytest.raises(ScoreFileError, match=r"junk.npy: not a readable .npy array"):
        read_actionness(junk)
    with pytest.raises(ScoreFileNotFoundError, match="nowhere: actionness folder not found"):
        ActionnessDir(tmp_path / "nowhere")
    folder = ActionnessDir(tmp_path / "act", create=True)
    with pytest.raises(ScoreFileNotFoundError, match=r"act/v9.npy: no per-second scores for video"):
        folder.read("v9")


def test_step_scores_folder_looks_in_the_task_folder_first(tmp_path: Path) -> None:
    folder = StepScoresDir(tmp_path / "s", create=True)
    flat = np.arange(8.0).reshape(4, 2)
    nested = -flat
    folder.write("t1", "v", flat, nested=False)
    np.testing.assert_array_equal(folder.read("t1", "v", n_seconds=4, n_steps=2), flat)
    before = folder.fingerprint()
    folder.write("t1", "v", nested)  # <root>/t1/v.npy now shadows <root>/v.npy for task t1
    assert folder.fingerprint() != before
    np.testing.assert_array_equal(folder.read("t1", "v"), nested)
    np.testing.assert_array_equal(folder.read("t2", "v"), flat)  # other tasks: the flat file
    with pytest.raises(ScoreFileNotFoundError) as info:
        folder.read("t1", "w", n_seconds=4, n_steps=2)
    text = str(info.value)
    assert "s/t1/w.npy" in text and "s/w.npy" in text and "(4, 2)" in text
    with pytest.raises(ScoreFileError, match=r"v.npy: step scores have 2 columns .* 3 steps"):
        folder.read("t1", "v", n_steps=3)


def test_writers_refuse_bad_arrays(tmp_path: Path) -> None:
    with pytest.raises(ScoreFileError, match="NaN or inf"):
        write_actionness(tmp_path / "a.npy", np.array([1.0, np.nan]))
    with pytest.raises(ScoreFileError, match=r"shape \(T, K\)"):
        write_step_scores(tmp_path / "f.npy", np.zeros(3))
    assert not (tmp_path / "a.npy").exists() and not (tmp_path / "f.npy").exists()
