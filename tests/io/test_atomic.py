"""Atomic writes leave the old file intact when writing fails."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.atomic import atomic_open, atomic_write_json


def test_failed_write_keeps_old_content_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(path) as handle:
        handle.write("new, half written")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_json_converts_numpy_and_nan(tmp_path: Path) -> None:
    path = atomic_write_json(
        tmp_path / "a" / "b.json", {"x": np.float32(0.5), "y": np.arange(2), "z": float("nan")}
    )
    assert json.loads(path.read_text()) == {"x": 0.5, "y": [0, 1], "z": None}
