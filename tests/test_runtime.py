"""The torch thread limit used when scoring many videos: restored afterwards, same scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from instructvid.actionness.model import ActionnessModel
from instructvid.actionness.proposals import score_video
from instructvid.runtime import limit_torch_threads


@pytest.fixture
def two_threads():
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(saved)


def test_limit_restores_the_thread_count(two_threads) -> None:
    with limit_torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), limit_torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2
    # never raises the count above the one in force; nesting restores each level
    with limit_torch_threads(1):
        with limit_torch_threads(4):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_scores_identical_with_and_without_the_limit(two_threads) -> None:
    model = ActionnessModel(16, init_std=0.5, seed=3)
    rng = np.random.default_rng(0)
    for t, clip in ((1, 1), (157, 1), (3000, 5)):
        x = rng.standard_normal((t, 16)).astype(np.float32)
        free = score_video(model, x, clip_seconds=clip)
        with limit_torch_threads(1):
            limited = score_video(model, x, clip_seconds=clip)
        np.testing.assert_array_equal(limited, free)


def test_both_capabilities_check_device_names_the_same_way() -> None:
    from instructvid.actionness.model import resolve_device as actionness_device
    from instructvid.runtime import resolve_device

    assert resolve_device("cpu") == "cpu" and actionness_device("cpu") == torch.device("cpu")
    assert actionness_device("auto").type == resolve_device("auto")
    for bad in ("gpu", "CUDA"):
        with pytest.raises(ValueError, match="auto, cpu or cuda"):
            resolve_device(bad)
        with pytest.raises(ValueError, match="auto, cpu or cuda"):
            actionness_device(bad)
