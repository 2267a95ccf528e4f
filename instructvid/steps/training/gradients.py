"""The gradients of one training step, as pure functions (shapes in the docstrings).

* θ-step: ∂L/∂θ of the loss L over the labelled frames — :func:`theta_gradient` (torch) and
  :func:`theta_gradient_np` (NumPy).
* Y-update: the costs ∂F/∂Y of eq. A.14 (``F = L − ½ δ ‖∂L/∂θ‖²``, as the authors compute
  it) — :func:`a14_costs` (closed form, torch), :func:`a14_costs_np` (closed form, NumPy and a
  compiled row kernel, the CPU fast path) and :func:`a14_costs_autograd` (double backward).

The A.14 costs have a closed form for this model (derivation in ``docs/steps.md``): with
p_t = softmax(o_t), R̃_t = (n_t p_t − y_t)/T (n_t = Σ_k Y_tk) over the frames holding a label,
S = ÂᵀÂ (K, K), ``H = X_rowsᵀ R̃ S`` (d, K) and ``v = S R̃ᵀ1`` (K,)::

    ∂F/∂Y_tk = c_tk − δ (1/T) (p_t·u_t − u_tk),     u_t = Hᵀ x_t + v,  c_tk = (λC_tk − log p_tk)/T

— one extra (d, K) column block in the product that computes the logits, no second backward
pass. :func:`a14_costs_autograd` computes the same thing by double backward (tests check them
equal).

torch is imported only inside the torch functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from instructvid.steps.model import log_softmax

if TYPE_CHECKING:
    import torch

__all__ = [
    "a14_costs",
    "a14_costs_autograd",
    "a14_costs_np",
    "theta_gradient",
    "theta_gradient_np",
]

_NO_MASK = np.zeros((0, 0), dtype=bool)


# --------------------------------------------------------------------------------------------
# torch (the fast engine on torch tensors; the reference engine differentiates its own loop)


def theta_gradient(
    x: torch.Tensor,
    y: torch.Tensor,
    inv_t: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    a: torch.Tensor,
    penalty: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Gradient of L w.r.t. (W, b) from the labelled frames only.

    Args:
        x: (N, d) features of the frames holding a label (dropout applied by the caller).
        y: (N, K) their labels (0/1 floats; a row may hold several 1s).
        inv_t: (N,) 1/T of each frame's video.
        weight: (M, d); bias: (M,); a: (M, K) column-normalised Â of the task.
        penalty: (N, K) λ·C of these frames, only for the reported loss.

    Returns:
        (dL/dW (M, d), dL/db (M,), L over these frames as a float).
    """
    import torch

    logits = x @ ((a.T @ weight).T) + bias @ a
    logp = torch.log_softmax(logits, dim=1)
    n = y.sum(dim=1, keepdim=True)
    r = (n * logp.exp() - y) * inv_t[:, None]  # (N, K) = dL/dO
    grad_w = a @ (r.T @ x)
    grad_b = a @ r.sum(dim=0)
    cost = -logp if penalty is None else penalty - logp
    loss = float((y * cost * inv_t[:, None]).sum())
    return grad_w, grad_b, loss


def a14_costs(
    x: torch.Tensor,
    y: torch.Tensor,
    inv_t: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    a: torch.Tensor,
    penalty: torch.Tensor | None,
    lr: float,
) -> torch.Tensor:
    """The Y-update costs ∂F/∂Y of eq. A.14 (authors' form), in closed form.

    ``F = L − ½·lr·‖∂L/∂θ‖²`` differentiated w.r.t. Y at the current labels; the batch's frames
    are concatenated (all from one task).

    Args:
        x: (N, d) features of all frames of the batch's videos (dropout applied if wanted).
        y: (N, K) current labels (0/1 floats).
        inv_t: (N,) 1/T of each frame's video.
        weight: (M, d); bias: (M,); a: (M, K) the task's Â.
        penalty: (N, K) λ·C (0 inside the narration intervals), or ``None`` for none.
        lr: δ, the step size in F.

    Returns:
        (N, K) float tensor of costs, to be minimised by the DP.
    """
    import torch

    rows = torch.nonzero(y.sum(dim=1) > 0).squeeze(1)
    s = a.T @ a  # (K, K)
    v = (a.T @ weight).T  # (d, K)
    beta = bias @ a  # (K,)
    x_rows = x[rows]
    y_rows = y[rows]
    logp_rows = torch.log_softmax(x_rows @ v + beta, dim=1)
    r = (y_rows.sum(dim=1, keepdim=True) * logp_rows.exp() - y_rows) * inv_t[rows, None]
    h = x_rows.T @ (r @ s)  # (d, K)
    bias_u = s @ r.sum(dim=0)  # (K,)
    z = x @ torch.cat([v, h], dim=1)
    k = a.shape[1]
    logp = torch.log_softmax(z[:, :k] + beta, dim=1)
    u = z[:, k:] + bias_u
    p = logp.exp()
    inner = (p * u).sum(dim=1, keepdim=True) - u
    cost = -logp - lr * inner
    if penalty is not None:
        cost = cost + penalty
    return cost * inv_t[:, None]


def a14_costs_autograd(
    x: torch.Tensor,
    y: torch.Tensor,
    inv_t: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    a: torch.Tensor,
    penalty: torch.Tensor,
    lr: float,
) -> torch.Tensor:
    """:func:`a14_costs` by double backward, as the authors compute it (same arguments)."""
    import torch

    w = weight.detach().requires_grad_(True)
    b = bias.detach().requires_grad_(True)
    yy = y.detach().clone().requires_grad_(True)
    logits = (x @ w.T + b) @ a
    loss = (yy * (penalty - torch.log_softmax(logits, dim=1)) * inv_t[:, None]).sum()
    grads = torch.autograd.grad(loss, [w, b], create_graph=True)
    f = loss
    for g in grads:
        f = f - 0.5 * lr * (g**2).sum()
    (dy,) = torch.autograd.grad(f, [yy])
    return dy.detach()


# --------------------------------------------------------------------------------------------
# NumPy (the fast engine on CPU)


def theta_gradient_np(
    x: np.ndarray,
    y: np.ndarray,
    inv_t: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    a: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """NumPy :func:`theta_gradient` (same arguments as arrays, without ``penalty``: the loss
    returned is the −log p part only)."""
    logp = log_softmax(x @ (a.T @ weight).T + bias @ a)
    r = (y.sum(axis=1, keepdims=True) * np.exp(logp) - y) * inv_t[:, None]
    loss = float(-(logp * y).sum(axis=1) @ inv_t)
    return a @ (r.T @ x), a @ r.sum(axis=0), loss


def a14_costs_np(
    feats: Sequence[np.ndarray],
    labelled: Sequence[np.ndarray],
    lengths: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    a: np.ndarray,
    s: np.ndarray,
    *,
    lr: float,
    penalty: float,
    outside: np.ndarray | None,
    hard_row: np.ndarray,
) -> np.ndarray:
    """Eq. A.14 costs of a batch, (N, K) float64 (+inf = forbidden); see :func:`a14_costs`.

    Args:
        feats: (T_i, d) float32 features of each video of the batch (all from one task; no
            dropout, or dropout applied by the caller).
        labelled: (K,) int64 per video, the current second of each step.
        lengths: (n_videos,) int64, T_i of each video (N = Σ T_i).
        weight: (M, d); bias: (M,); a: (M, K) the task's Â; s: (K, K) ÂᵀÂ.
        lr: δ, the step size in F.
        penalty: λ, added to the ``outside`` cells of the rows not in ``hard_row``.
        outside: (N, K) bool, the cells outside the narration intervals, or ``None``.
        hard_row: (N,) bool, rows whose ``outside`` cells are forbidden (+inf).
    """
    k = a.shape[1]
    vt = a.T @ weight  # (K, d): step classifiers
    beta = bias @ a
    x_rows = np.concatenate([f[lab] for f, lab in zip(feats, labelled, strict=True)])
    inv_rows = np.repeat(1.0 / lengths, k).astype(np.float32)
    p_rows = np.exp(log_softmax(x_rows @ vt.T + beta))
    r = (p_rows - np.tile(np.eye(k, dtype=np.float32), (len(feats), 1))) * inv_rows[:, None]
    w2 = np.ascontiguousarray(np.concatenate([vt.T, x_rows.T @ (r @ s)], axis=1))
    bias_u = (s @ r.sum(axis=0)).astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    z = np.empty((int(offsets[-1]), 2 * k), dtype=np.float32)
    for j, f in enumerate(feats):
        np.matmul(f, w2, out=z[offsets[j] : offsets[j + 1]])
    costs = np.empty((int(offsets[-1]), k), dtype=np.float64)
    _a14_rows_kernel(
        z,
        beta.astype(np.float32),
        bias_u,
        float(lr),
        np.repeat(1.0 / lengths, lengths).astype(np.float32),
        outside if outside is not None else _NO_MASK,
        hard_row,
        float(penalty),
        costs,
    )
    return costs


@njit(cache=True, nogil=True, boundscheck=False)
def _a14_rows_kernel(
    z, beta, bias_u, lr, inv_t, outside, hard_row, penalty, out
):  # pragma: no cover
    """Row-wise part of :func:`a14_costs`, fused, into a float64 buffer.

    z: (N, 2K) float32 = X [V | H]; beta, bias_u: (K,); inv_t: (N,) 1/T of each row's video;
    outside: (N, K) bool (or (0, 0) when unconstrained); hard_row: (N,) bool, forbid the
    outside cells of the row (else add ``penalty`` there); out: (N, K) float64.
    """
    n = z.shape[0]
    k = beta.shape[0]
    masked = outside.shape[0] == n
    for t in range(n):
        m = -np.inf
        for j in range(k):
            o = z[t, j] + beta[j]
            if o > m:
                m = o
        s = 0.0
        for j in range(k):
            s += np.exp(z[t, j] + beta[j] - m)
        lse = m + np.log(s)
        pu = 0.0
        for j in range(k):
            pu += np.exp(z[t, j] + beta[j] - lse) * (z[t, k + j] + bias_u[j])
        w = inv_t[t]
        for j in range(k):
            logp = z[t, j] + beta[j] - lse
            c = -logp - lr * (pu - (z[t, k + j] + bias_u[j]))
            if masked and outside[t, j]:
                if hard_row[t]:
                    out[t, j] = np.inf
                    continue
                c += penalty
            out[t, j] = c * w
