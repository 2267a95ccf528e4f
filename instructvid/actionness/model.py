"""The actionness / order-verification model (thesis §4.3.1, eqs. 4.1–4.3).

For a clip feature ``h ∈ R^d``:

* actionness ``S(x) = wᵀh + b``;
* pairwise order ``F(x, x′) = aᵀ(h − h′)`` (antisymmetric: ``F(x, x′) = −F(x′, x)``), the
  confidence that ``x`` happens before ``x′``;
* for a sequence ``X = (x_1 … x_M)`` of clips of one video,
  ``W_ij = exp(S_i + S_j) / Σ_{i′<j′} exp(S_i′ + S_j′)`` over pairs ``i < j`` and
  ``G(X) = Σ_{i<j} W_ij F(x_i, x_j)``;
* loss ``BCE(σ(G(X)), y)`` with ``y = 1`` for clips in their true order, ``y = 0`` when the
  sequence is fully reversed.

Two consequences of the definitions, used and tested elsewhere: reversing a sequence negates
``G`` (same pairs and weights, ``F`` antisymmetric), so a reversed negative is the same training
example as its sorted positive; and adding a constant to every ``S_i`` leaves ``W`` unchanged, so
``b`` (and any per-video offset of the features) receives no gradient from order verification.

Clip features: the thesis runs I3D on each clip (d = 1024). On pre-extracted per-second features
we substitute the mean of the clip's per-second rows (:func:`mean_clip_features`); any function
with the :data:`ClipFeatureFn` signature can replace it when scoring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from instructvid.runtime import resolve_device as _resolve_name

__all__ = [
    "ActionnessModel",
    "ClipFeatureFn",
    "mean_clip_features",
    "pair_indices",
    "resolve_device",
]

#: ``(features (T, D) per second, starts (n,), ends (n,)) -> (n, D')`` clip features; clip ``c``
#: covers seconds ``[starts[c], ends[c])``.
ClipFeatureFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def mean_clip_features(features: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mean of the per-second rows ``features[s:e]`` of every clip (O(D) per clip via cumsum).

    Args:
        features: (T, D) per-second features.
        starts, ends: (n,) integer seconds, ``0 <= start < end <= T``.

    Returns:
        float32 (n, D).
    """
    feats = np.asarray(features)
    s = np.asarray(starts, dtype=np.int64).reshape(-1)
    e = np.asarray(ends, dtype=np.int64).reshape(-1)
    if s.shape != e.shape:
        raise ValueError(f"starts {s.shape} and ends {e.shape} differ")
    if s.size and (s.min() < 0 or e.max() > feats.shape[0] or (e <= s).any()):
        raise ValueError(f"clips must satisfy 0 <= start < end <= T={feats.shape[0]}")
    csum = np.zeros((feats.shape[0] + 1, feats.shape[1]), dtype=np.float64)
    np.cumsum(feats, axis=0, dtype=np.float64, out=csum[1:])
    return ((csum[e] - csum[s]) / (e - s)[:, None]).astype(np.float32)


def pair_indices(m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(i, j)`` of the ``M (M − 1) / 2`` pairs ``i < j`` (row-major order)."""
    if m < 2:
        raise ValueError(f"a sequence needs at least 2 clips, got M={m}")
    iu = torch.triu_indices(m, m, offset=1)
    return iu[0], iu[1]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cpu"``/``"cuda"`` checked
    (:func:`instructvid.runtime.resolve_device`); a ``torch.device`` is returned as is."""
    if isinstance(device, torch.device):
        return device
    return torch.device(_resolve_name(device))


class ActionnessModel(nn.Module):
    """``S(x) = wᵀh + b`` and ``F(x, x′) = aᵀ(h − h′)`` on d-dimensional clip features.

    Parameters: ``weight`` (2, d) with row 0 = ``w`` and row 1 = ``a`` (one matrix so that a
    batch costs one matrix product), ``bias`` = ``b`` (scalar).
    """

    def __init__(self, dim: int, *, init_std: float = 0.01, seed: int = 0) -> None:
        super().__init__()
        if dim < 1:
            raise ValueError(f"feature dimension must be >= 1, got {dim}")
        self.dim = int(dim)
        gen = torch.Generator().manual_seed(int(seed))
        self.weight = nn.Parameter(torch.randn(2, dim, generator=gen) * init_std)
        self.bias = nn.Parameter(torch.zeros(()))
        self._pairs: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    # -- the three quantities of the thesis ------------------------------------------------

    def project(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(S, aᵀh)`` for clip features ``h`` of shape (..., d); each output has shape (...)."""
        if h.shape[-1] != self.dim:
            raise ValueError(f"expected clip features of dimension {self.dim}, got {h.shape[-1]}")
        p = torch.nn.functional.linear(h, self.weight)
        return p[..., 0] + self.bias, p[..., 1]

    def actionness(self, h: torch.Tensor) -> torch.Tensor:
        """``S(x) = wᵀh + b``: (..., d) → (...)."""
        return self.project(h)[0]

    def pair_order(self, h: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
        """``F(x, x′) = aᵀ(h − h′)``: (..., d), (..., d) → (...)."""
        return torch.nn.functional.linear(h - h2, self.weight[1:2])[..., 0]

    def _pair_idx(self, m: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        key = m
        if key not in self._pairs or self._pairs[key][0].device != device:
            i, j = pair_indices(m)
            self._pairs[key] = (i.to(device), j.to(device))
        return self._pairs[key]

    def pair_weights(self, s: torch.Tensor) -> torch.Tensor:
        """``W_ij`` (eq. 4.2) from actionness ``s`` (B, M): (B, M(M−1)/2), pairs row-major."""
        i, j = self._pair_idx(s.shape[-1], s.device)
        return torch.softmax(s[..., i] + s[..., j], dim=-1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Order score ``G(X)`` (eq. 4.1) of a batch of sequences ``h`` (B, M, d) → (B,)."""
        if h.ndim != 3:
            raise ValueError(f"expected (B, M, d) sequences of clip features, got {tuple(h.shape)}")
        s, proj = self.project(h)
        i, j = self._pair_idx(h.shape[1], h.device)
        w = torch.softmax(s[:, i] + s[:, j], dim=-1)
        f = proj[:, i] - proj[:, j]
        return (w * f).sum(dim=-1)

    def loss(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean BCE of ``σ(G(X))`` against labels ``y`` (B,) in {0, 1} (eq. 4.3)."""
        return torch.nn.functional.binary_cross_entropy_with_logits(self(h), y.to(dtype=h.dtype))

    # -- numpy helpers ------------------------------------------------------------------------

    @torch.no_grad()
    def score_clips(self, h: np.ndarray, *, batch: int = 65536) -> np.ndarray:
        """Actionness of clip features ``h`` (n, d) as float64 (n,), on the model's device."""
        h = np.asarray(h, dtype=np.float32).reshape(-1, self.dim)
        device = self.weight.device
        out = np.empty(h.shape[0], dtype=np.float64)
        for lo in range(0, h.shape[0], batch):
            t = torch.from_numpy(np.ascontiguousarray(h[lo : lo + batch])).to(device)
            out[lo : lo + batch] = self.actionness(t).double().cpu().numpy()
        return out

    def to_dict(self) -> dict[str, Any]:
        """Weights as plain lists (``w``, ``a``, ``b``), for reports."""
        w = self.weight.detach().cpu().numpy()
        return {"w": w[0].tolist(), "a": w[1].tolist(), "b": float(self.bias.detach())}
