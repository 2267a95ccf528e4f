"""The COIN.json reader and writer: layout, subsets, clear errors naming file and video."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.coin import CoinFormatError, CoinSegment, CoinVideo, read_coin, write_coin


def _write(path: Path, database: dict) -> Path:
    path.write_text(json.dumps({"database": database}))
    return path


GOOD = {
    "abc": {
        "class": "MakeTea",
        "recipe_type": 3,
        "subset": "training",
        "duration": 20.5,
        "annotation": [{"id": "1", "segment": [1.0, 4.5], "label": "boil water"}],
        "start": 0.5,
    },
    "xyz": {"class": "MakeTea", "subset": "testing", "duration": 10, "annotation": []},
}


def test_read_and_round_trip(tmp_path: Path) -> None:
    videos = read_coin(_write(tmp_path / "c.json", GOOD))
    assert list(videos) == ["abc", "xyz"]
    v = videos["abc"]
    assert (
        v.duration == 20.5 and v.subset == "training" and v.cls == "MakeTea" and v.recipe_type == 3
    )
    assert v.segments == (CoinSegment(1.0, 4.5, "boil water", "1"),)
    assert v.extra == {"start": 0.5}
    np.testing.assert_array_equal(v.segment_array(), [[1.0, 4.5]])
    assert videos["xyz"].segment_array().shape == (0, 2)
    assert list(read_coin(tmp_path / "c.json", subset="testing")) == ["xyz"]
    write_coin(tmp_path / "d.json", videos, note="x")
    again = read_coin(tmp_path / "d.json")
    assert again == videos
    assert json.loads((tmp_path / "d.json").read_text())["note"] == "x"
    write_coin(tmp_path / "e.json", [CoinVideo("q", 5.0, "testing", "T", ())])
    assert read_coin(tmp_path / "e.json")["q"].recipe_type is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"subset": "testing", "annotation": []}, "positive duration"),
        ({"duration": -1, "subset": "testing", "annotation": []}, "positive duration"),
        ({"duration": 5, "annotation": []}, '"subset" string'),
        ({"duration": 5, "subset": "testing"}, '"annotation" list'),
        (
            {"duration": 5, "subset": "testing", "annotation": [{"segment": [1]}]},
            r"annotation 0: expected 'segment': \[start, end\]",
        ),
        (
            {"duration": 5, "subset": "testing", "annotation": [{"segment": [3, 2]}]},
            r"0 <= start <= end, found \[3, 2\]",
        ),
        (
            {"duration": 5, "subset": "testing", "annotation": [{"segment": ["a", 2]}]},
            "expected 'segment'",
        ),
    ],
)
def test_errors_name_file_and_video(tmp_path: Path, entry: dict, message: str) -> None:
    path = _write(tmp_path / "bad.json", {"ok": GOOD["abc"], "v1": entry})
    with pytest.raises(CoinFormatError, match=message) as info:
        read_coin(path)
    assert info.value.video == "v1"
    assert str(path) in str(info.value) and "'v1'" in str(info.value)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(CoinFormatError, match="file not found"):
        read_coin(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(CoinFormatError, match="not valid UTF-8 JSON"):
        read_coin(tmp_path / "x.json")
    (tmp_path / "y.json").write_text(json.dumps({"videos": {}}))
    with pytest.raises(CoinFormatError, match='"database"'):
        read_coin(tmp_path / "y.json")
    with pytest.raises(
        CoinFormatError,
        match=r"no video in subset \['validation'\]; subsets present: \['testing', 'training'\]",
    ):
        read_coin(_write(tmp_path / "z.json", GOOD), subset="validation")
