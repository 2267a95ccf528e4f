"""Hyper-parameter grids (validation only) and the novel-task transfer curve."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructvid.io.crosstask import CrossTaskData
from instructvid.steps.benchmark.types import MethodOptions
from tests.steps.planted import planted_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> CrossTaskData:
    return CrossTaskData.open(planted_world(tmp_path_factory.mktemp("planted")))


def test_tune_grid_parsing() -> None:
    from instructvid.steps.benchmark.tune import parse_grid

    assert parse_grid("lr=1e-5,1e-4;dropout=0.3,0.5") == {
        "lr": [1e-5, 1e-4],
        "dropout": [0.3, 0.5],
    }
    for bad, message in (
        ("lr", "name=v1"),
        ("speed=1", "unknown"),
        ("lr=1;lr=2", "twice"),
        ("lr=fast", "numbers"),
        ("", "empty"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_grid(bad)


def test_transfer_default_counts_and_rising_curve(world: CrossTaskData, tmp_path: Path) -> None:
    from instructvid.steps.benchmark.transfer import default_counts, transfer_curve

    assert default_counts(65) == [1, 2, 5, 10, 20, 40, 65]
    assert default_counts(2) == [1, 2]
    hyper = {"epochs_init": 4, "epochs": 8, "batch_videos": 4, "lr": 0.05}
    curve = transfer_curve(
        world, tmp_path, counts=[1, 2], n_train=6, options=MethodOptions(hyper=hyper)
    )
    assert curve["word_coverage"][0] < curve["word_coverage"][1] <= 1.0
    assert curve["mean"][1] > curve["uniform"]["mean"]
    with pytest.raises(ValueError, match="counts must be"):
        transfer_curve(world, tmp_path, counts=[3], lines=False)
