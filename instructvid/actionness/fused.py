"""The fused training engine: loss and analytic gradient of a batch in one compiled pass (CPU).

:func:`fused_loss_grad` computes, for a batch of sequences given as rows of the
:class:`~instructvid.actionness.store.FeatureStore`, the same quantities as
:meth:`ActionnessModel.loss <instructvid.actionness.model.ActionnessModel.loss>` with autograd on
the batch of clip means: each clip's two cumulative-sum rows are read once and ``S``, ``aᵀh``,
``W``, ``G``, the loss and its gradient w.r.t. ``(w, a)`` are computed without materialising the
batch. The batch is cut into :data:`FUSED_CHUNKS` fixed chunks run on a thread pool (the kernel
releases the GIL); chunk sums are added in chunk order, so results do not depend on the number
of threads. :func:`fused_epoch` applies the gradients of an epoch's batches with Adam (torch).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from numba import njit

from instructvid.actionness.model import ActionnessModel
from instructvid.actionness.store import FeatureStore

__all__ = ["FUSED_CHUNKS", "fused_epoch", "fused_loss_grad"]


@njit(nogil=True, cache=True, boundscheck=False, fastmath=True)
def _fused_chunk(
    csum, rows_s, rows_e, inv_len, y, weight, bias, m, lo, hi, grad, stats
):  # pragma: no cover
    """Forward and analytic backward of sequences ``lo .. hi - 1`` (see :func:`fused_loss_grad`).

    Adds d(sum of losses)/d(weight) to ``grad`` (2, D) float32; ``stats`` = (loss sum, correct).
    """
    d = csum.shape[1]
    h = np.empty((m, d), dtype=np.float32)
    s = np.empty(m, dtype=np.float64)
    p = np.empty(m, dtype=np.float64)
    n_pairs = m * (m - 1) // 2
    z = np.empty(n_pairs, dtype=np.float64)
    f = np.empty(n_pairs, dtype=np.float64)
    ds = np.empty(m, dtype=np.float64)
    dp = np.empty(m, dtype=np.float64)
    for b in range(lo, hi):
        for c in range(m):
            k = b * m + c
            a0 = rows_s[k]
            a1 = rows_e[k]
            inv = inv_len[k]
            acc_s = np.float32(0.0)
            acc_p = np.float32(0.0)
            for j in range(d):
                v = (csum[a1, j] - csum[a0, j]) * inv
                h[c, j] = v
                acc_s += weight[0, j] * v
                acc_p += weight[1, j] * v
            s[c] = acc_s + bias
            p[c] = acc_p
        zmax = -np.inf
        q = 0
        for i in range(m):
            for j in range(i + 1, m):
                z[q] = s[i] + s[j]
                f[q] = p[i] - p[j]
                if z[q] > zmax:
                    zmax = z[q]
                q += 1
        tot = 0.0
        for q in range(n_pairs):
            z[q] = np.exp(z[q] - zmax)
            tot += z[q]
        g = 0.0
        for q in range(n_pairs):
            z[q] /= tot  # now W_ij
            g += z[q] * f[q]
        yb = y[b]
        # loss = softplus(g) - y g, stable
        if g > 0:
            loss = g + np.log1p(np.exp(-g)) - yb * g
            sig = 1.0 / (1.0 + np.exp(-g))
        else:
            loss = np.log1p(np.exp(g)) - yb * g
            eg = np.exp(g)
            sig = eg / (1.0 + eg)
        stats[0] += loss
        if (g > 0) == (yb > 0.5):
            stats[1] += 1.0
        dg = sig - yb
        for i in range(m):
            ds[i] = 0.0
            dp[i] = 0.0
        q = 0
        for i in range(m):
            for j in range(i + 1, m):
                dz = z[q] * (f[q] - g)  # dG/dz_ij, z_ij = s_i + s_j
                ds[i] += dz
                ds[j] += dz
                dp[i] += z[q]  # dG/dp_i through f_ij = p_i - p_j
                dp[j] -= z[q]
                q += 1
        for c in range(m):
            cs = np.float32(dg * ds[c])
            cp = np.float32(dg * dp[c])
            for j in range(d):
                grad[0, j] += cs * h[c, j]
                grad[1, j] += cp * h[c, j]


def _fused_batch(csum, rows_s, rows_e, inv_len, y, weight, bias, m, n_chunks):
    """Static chunks of sequences on a thread pool (the kernel releases the GIL); per-chunk
    sums are added in chunk order, so the result does not depend on the number of threads."""
    n_seq = y.shape[0]
    d = csum.shape[1]
    grads = np.zeros((n_chunks, 2, d), dtype=np.float32)
    stats = np.zeros((n_chunks, 2), dtype=np.float64)

    def work(c: int) -> None:
        lo, hi = c * n_seq // n_chunks, (c + 1) * n_seq // n_chunks
        _fused_chunk(csum, rows_s, rows_e, inv_len, y, weight, bias, m, lo, hi, grads[c], stats[c])

    list(_pool().map(work, range(n_chunks)))
    return grads.astype(np.float64).sum(axis=0), stats.sum(axis=0)


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="actionness")
    return _POOL


#: Static chunks of a batch in the fused kernel (fixed, so results do not depend on threads).
FUSED_CHUNKS = 8


def fused_loss_grad(
    store: FeatureStore,
    videos: np.ndarray,
    starts: np.ndarray,
    clip_len: np.ndarray,
    y: np.ndarray,
    model: ActionnessModel,
) -> tuple[float, int, np.ndarray]:
    """Mean BCE loss, number of correct order predictions and d(mean loss)/d(weight) (2, D).

    The same quantities as ``model.loss`` on ``store.clip_means(...)`` with autograd, computed by
    one compiled pass that reads each clip's two cumulative-sum rows once and never materialises
    the batch (the CPU training engine). ``d loss / d b`` is 0 (see :mod:`.model`).
    """
    rows_s, rows_e, inv = store.batch_rows(videos, starts, clip_len)
    weight = np.ascontiguousarray(model.weight.detach().cpu().numpy(), dtype=np.float32)
    grad, stats = _fused_batch(
        store.cumsum,
        rows_s,
        rows_e,
        inv,
        np.asarray(y, dtype=np.float64),
        weight,
        float(model.bias.detach()),
        starts.shape[1],
        FUSED_CHUNKS,
    )
    n = max(int(np.asarray(y).shape[0]), 1)
    return float(stats[0]) / n, int(stats[1]), grad / n


def fused_epoch(
    store: FeatureStore,
    batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    model: ActionnessModel,
    optim: torch.optim.Optimizer,
    on_batch: Callable[[], None] | None = None,
) -> tuple[float, int, int]:
    """One epoch of the fused engine: an Adam step per batch with the gradient of
    :func:`fused_loss_grad` (``d loss / d b`` is 0).

    Args:
        store: the cumulative-sum store of the training videos.
        batches: ``(videos (B,), starts (B, M), clip_len (B,), y (B,) bool)`` per batch.
        model: the model to update (its ``weight`` and ``bias`` get the gradients).
        optim: the optimiser over ``model.parameters()``.
        on_batch: called after every step.

    Returns:
        ``(Σ batch size × mean loss, correct order predictions, sequences)`` over the epoch.
    """
    loss_sum, correct, n_seq = 0.0, 0, 0
    for vids, starts, clip, y_b in batches:
        loss_mean, n_correct, grad = fused_loss_grad(
            store, vids, starts, clip, y_b.astype(np.float64), model
        )
        optim.zero_grad(set_to_none=True)
        model.weight.grad = torch.from_numpy(grad.astype(np.float32))
        model.bias.grad = torch.zeros_like(model.bias)
        optim.step()
        b = int(y_b.shape[0])
        loss_sum += loss_mean * b
        correct += n_correct
        n_seq += b
        if on_batch is not None:
            on_batch()
    return loss_sum, correct, n_seq
