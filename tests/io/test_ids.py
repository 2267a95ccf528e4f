"""Ids read from data files and paths built from them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instructvid.io.errors import FormatError
from instructvid.io.ids import UnsafePathError, check_id, is_valid_id, safe_join

BAD = ["../x", "a/b", "/etc/passwd", "..", ".", "a\x00b", "..\\x", "", "x" * 256, "a b", "é"]
GOOD = ["eRoro2TFF6B", "23521", "-0a_Z.9", "x" * 255, "COIN_v1.mp4"]


@pytest.mark.parametrize("value", BAD)
def test_bad_ids_are_refused_with_file_and_line(value: str) -> None:
    with pytest.raises(FormatError) as info:
        check_id(value, path="videos.csv", line=7, what="video id")
    assert info.value.line == 7
    assert str(info.value).startswith("videos.csv, line 7: video id ")


@pytest.mark.parametrize("value", GOOD)
def test_good_ids_pass(value: str) -> None:
    assert check_id(value, path="f") == value


@pytest.mark.parametrize("name", ["../x", "/abs/x", "..", "a/../../x", "a\x00b", "..\\x", ""])
def test_safe_join_refuses_leaving_the_folder(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(UnsafePathError):
        safe_join(out, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_safe_join_refuses_a_symlink_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(tmp_path, out / "link")
    with pytest.raises(UnsafePathError):
        safe_join(out, "link", "x.csv")


def test_safe_join_keeps_names_inside(tmp_path: Path) -> None:
    assert safe_join(tmp_path / "o", "a", "b_c.csv") == tmp_path / "o" / "a" / "b_c.csv"


@given(st.text(max_size=20))
def test_a_valid_id_always_joins_inside(value: str) -> None:
    if is_valid_id(value):
        assert safe_join("/tmp/instructvid-root", value).name == value
    else:
        with pytest.raises(FormatError):
            check_id(value, path="f")


def test_an_unsafe_path_error_names_the_refused_path(tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError) as info:
        safe_join(tmp_path / "out", "..", "x.csv")
    assert isinstance(info.value, FormatError) and isinstance(info.value, ValueError)
    assert info.value.path == tmp_path / "out" / ".." / "x.csv"
    assert "leads outside" in str(info.value)
