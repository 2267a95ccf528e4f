"""ActivityNet-style proposal files: round trip and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.proposals import (
    ProposalFormatError,
    VideoProposals,
    read_proposals,
    write_proposals,
)


def test_round_trip_sorted_by_score(tmp_path: Path) -> None:
    props = {
        "a": VideoProposals(np.array([[0.0, 2.5], [1.0, 9.0]]), np.array([0.2, 0.7])),
        "b": VideoProposals(np.zeros((0, 2)), np.zeros(0)),
    }
    path = write_proposals(tmp_path / "p.json", props, external_data={"used": False})
    data = json.loads(path.read_text())
    assert set(data) == {"version", "results", "external_data"}
    assert data["results"]["a"][0] == {"segment": [1.0, 9.0], "score": 0.7}
    version, back = read_proposals(path)
    assert version == "instructvid-actionness-1"
    np.testing.assert_array_equal(back["a"].segments, [[1.0, 9.0], [0.0, 2.5]])
    np.testing.assert_array_equal(back["a"].scores, [0.7, 0.2])
    assert len(back["b"]) == 0
    with pytest.raises(ValueError, match="2 segments but 1 scores"):
        VideoProposals(np.zeros((2, 2)), np.zeros(1))


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({"v": {"segment": [0, 1]}}, "expected a list of proposals"),
        (
            {"v": [{"segment": [0, 1], "score": 1}, {"segment": [0], "score": 1}]},
            r"proposal 1: expected 'segment'",
        ),
        ({"v": [{"segment": [5, 1], "score": 1}]}, "proposal 0: start 5 is after end 1"),
        ({"v": [{"segment": [0, 1]}]}, "proposal 0: expected a finite numeric 'score'"),
        ({"v": [{"segment": [0, 1], "score": "high"}]}, "finite numeric 'score'"),
    ],
)
def test_errors_name_file_video_and_index(tmp_path: Path, results: dict, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"version": "x", "results": results, "external_data": {}}))
    with pytest.raises(ProposalFormatError, match=message) as info:
        read_proposals(path)
    assert info.value.video == "v" and str(path) in str(info.value)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ProposalFormatError, match="file not found"):
        read_proposals(tmp_path / "none.json")
    (tmp_path / "a.json").write_text(json.dumps({"version": "1"}))
    with pytest.raises(ProposalFormatError, match='"results"'):
        read_proposals(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("[")
    with pytest.raises(ProposalFormatError, match="not valid"):
        read_proposals(tmp_path / "b.json")
