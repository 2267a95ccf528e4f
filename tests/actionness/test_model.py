"""The order-verification model: eqs. 4.1–4.3 on hand-computed values and their symmetries."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from instructvid.actionness.model import ActionnessModel, mean_clip_features, pair_indices


def _model(w: list[float], a: list[float], b: float = 0.0) -> ActionnessModel:
    m = ActionnessModel(len(w))
    with torch.no_grad():
        m.weight.copy_(torch.tensor([w, a], dtype=torch.float32))
        m.bias.fill_(b)
    return m


def test_three_clip_example_by_hand() -> None:
    # S = (0, ln 2, 0): pair sums (1,2)=ln2, (1,3)=0, (2,3)=ln2 -> W = (2, 1, 2) / 5.
    # a^T h = (3, 1, 0): F12 = 2, F13 = 3, F23 = 1 -> G = 0.8 + 0.6 + 0.4 = 1.8.
    m = _model([1.0, 0.0], [0.0, 1.0], b=0.7)  # b shifts every S: W unchanged
    h = torch.tensor([[[0.0, 3.0], [math.log(2), 1.0], [0.0, 0.0]]])
    s = m.actionness(h)
    assert torch.allclose(s, torch.tensor([[0.7, 0.7 + math.log(2), 0.7]]))
    w = m.pair_weights(s)
    assert torch.allclose(w, torch.tensor([[0.4, 0.2, 0.4]]), atol=1e-6)
    assert torch.allclose(m(h), torch.tensor([1.8]), atol=1e-5)
    # Loss = BCE(sigmoid(1.8), y).
    loss1 = m.loss(h, torch.tensor([1.0]))
    assert loss1.item() == pytest.approx(math.log1p(math.exp(-1.8)), rel=1e-5)


def test_pair_order_is_antisymmetric_and_reversal_negates_g() -> None:
    gen = torch.Generator().manual_seed(1)
    m = ActionnessModel(6, init_std=1.0, seed=3)
    h = torch.randn(8, 5, 6, generator=gen)
    h2 = torch.randn(8, 5, 6, generator=gen)
    assert torch.allclose(m.pair_order(h, h2), -m.pair_order(h2, h), atol=1e-6)
    g = m(h)
    g_rev = m(h.flip(1))
    assert torch.allclose(g_rev, -g, atol=1e-5)
    # A reversed negative is the same example as its sorted positive.
    y1, y0 = torch.ones(8), torch.zeros(8)
    assert torch.allclose(m.loss(h, y1), m.loss(h.flip(1), y0), atol=1e-6)
    # Weights sum to one and are positive.
    w = m.pair_weights(m.actionness(h))
    assert w.shape == (8, 10)
    assert torch.allclose(w.sum(1), torch.ones(8), atol=1e-6) and (w > 0).all()


def test_per_video_feature_shift_changes_nothing() -> None:
    m = ActionnessModel(4, init_std=1.0, seed=0)
    h = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(0))
    shift = torch.randn(3, 1, 4, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(m(h), m(h + shift), atol=1e-5)


def test_pairs_and_shape_errors() -> None:
    i, j = pair_indices(4)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 3),
    ]
    with pytest.raises(ValueError, match="at least 2 clips"):
        pair_indices(1)
    m = ActionnessModel(4)
    with pytest.raises(ValueError, match="dimension 4"):
        m(torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match=r"\(B, M, d\)"):
        m(torch.zeros(3, 4))


def test_mean_clip_features_and_seeded_init() -> None:
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    h = mean_clip_features(x, np.array([0, 3]), np.array([2, 10]))
    assert np.allclose(h, [x[0:2].mean(0), x[3:10].mean(0)])
    with pytest.raises(ValueError, match="start < end"):
        mean_clip_features(x, np.array([4]), np.array([4]))
    a, b = ActionnessModel(5, seed=7), ActionnessModel(5, seed=7)
    assert torch.equal(a.weight, b.weight)
    assert not torch.equal(a.weight, ActionnessModel(5, seed=8).weight)
