"""Inputs with the same folder name get distinct names from their paths, or NAME=PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructvid.scene.input_names import input_names, parse_input
from instructvid.scene.reconstruct import reconstruct


def _folders(root: Path, *rel: str) -> list[Path]:
    out = []
    for r in rel:
        (root / r).mkdir(parents=True)
        out.append(root / r)
    return out


def test_same_folder_names_take_the_distinguishing_part(tmp_path: Path) -> None:
    a, b, c = _folders(tmp_path, "P8/images", "P25/images", "other")
    names = [n for n, _ in input_names([a, b, c])]
    assert names == ["P8-images", "P25-images", "other"]
    deep = _folders(tmp_path / "x", "s1/cam/images", "s2/cam/images")
    assert [n for n, _ in input_names(deep)] == ["s1-cam-images", "s2-cam-images"]


def test_name_equals_path(tmp_path: Path) -> None:
    a, b = _folders(tmp_path, "P8/images", "P25/images")
    assert input_names([f"left={a}", f"right={b}"]) == [("left", a), ("right", b)]
    assert parse_input(str(a)) == (None, a)
    with pytest.raises(ValueError, match="two inputs are named 'x'"):
        input_names([f"x={a}", f"x={b}"])
    with pytest.raises(ValueError, match="input name"):
        parse_input(f"bad name!={a}")
    with pytest.raises(ValueError, match="the same input is given twice"):
        input_names([a, a])


def test_reconstruct_no_longer_refuses_same_folder_names(tmp_path: Path) -> None:
    a, b = _folders(tmp_path, "P8/images", "P25/images")
    missing = tmp_path / "P9" / "images"
    # Names are resolved first; the error is now about the missing input, not the names.
    with pytest.raises(FileNotFoundError, match="P9"):
        reconstruct([a, b, missing], tmp_path / "out")
