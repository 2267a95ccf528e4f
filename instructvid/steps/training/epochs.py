"""One epoch of training, for each engine: Y-updates by the DP, then θ-steps by Adam.

* :func:`epoch_fast` — the fast engine on CPU: batches of ≤ ``batch_videos`` videos of one
  task, the batch's A.14 costs in closed form (:func:`~instructvid.steps.training.gradients.a14_costs_np`),
  the DP of the whole batch in one call, one Adam step on the K labelled seconds per video.
* :func:`epoch_fast_torch` — the same algorithm on torch tensors (any device).
* :func:`epoch_reference` — the authors' ``train_epoch``: one video per step, autograd double
  backward, ``torch.optim.Adam``.
* :func:`epoch_supervised` — θ-steps on the ground truth (the supervised topline).

Each returns the epoch's entry of the learner's ``history_``. Epoch e draws its batch order,
random initial scores and dropout masks from generators seeded by ``(random_state, e)``
(:func:`epoch_rng`), so an epoch's result depends only on the state it starts from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from instructvid.align.dp import ordered_assignment, ordered_steps_stacked
from instructvid.steps.training.data import TrainVideo
from instructvid.steps.training.gradients import (
    a14_costs,
    a14_costs_autograd,
    a14_costs_np,
    theta_gradient,
    theta_gradient_np,
)
from instructvid.steps.training.state import EpochStats, TrainingState

__all__ = [
    "Batch",
    "EpochSettings",
    "epoch_fast",
    "epoch_fast_torch",
    "epoch_reference",
    "epoch_rng",
    "epoch_supervised",
    "init_costs",
    "task_batches",
]


@dataclass(frozen=True)
class EpochSettings:
    """The learner's hyper-parameters that an epoch reads (see
    :class:`~instructvid.steps.training.learner.StepLearner` for their meaning)."""

    random_state: int
    epochs_init: int
    batch_videos: int
    lr: float
    dropout: float
    y_dropout: bool
    constraints: str
    penalty: float
    a14: str


@dataclass
class Batch:
    """Videos ``items`` (indices into the training videos), all of task ``task_id``."""

    task_id: str
    items: list[int]


# --------------------------------------------------------------------------------------------
# Randomness, batches, initial labels


def epoch_rng(random_state: int, epoch: int) -> tuple[np.random.Generator, int]:
    """Epoch ``epoch``'s NumPy generator and torch seed, both from ``(random_state, epoch)``."""
    seq = np.random.SeedSequence([int(random_state), int(epoch), 0x5EED])
    torch_seed = int(seq.generate_state(1, dtype=np.uint64)[0] % (2**63 - 1))
    return np.random.default_rng(seq), torch_seed


def task_batches(
    videos: Sequence[TrainVideo], rng: np.random.Generator, batch_videos: int
) -> list[Batch]:
    """Batches of ≤ ``batch_videos`` videos of one task; order shuffled every epoch."""
    by_task: dict[str, list[int]] = {}
    for i, v in enumerate(videos):
        by_task.setdefault(v.task_id, []).append(i)
    batches: list[Batch] = []
    size = max(1, int(batch_videos))
    for task_id in sorted(by_task):
        items = [by_task[task_id][j] for j in rng.permutation(len(by_task[task_id]))]
        for lo in range(0, len(items), size):
            batches.append(Batch(task_id, items[lo : lo + size]))
    return [batches[j] for j in rng.permutation(len(batches))]


def init_costs(
    rng: np.random.Generator,
    n: int,
    k: int,
    outside: np.ndarray | None,
    hard_row: np.ndarray,
) -> np.ndarray:
    """Random U[0, 1) scores + C (minimised): the authors' random constrained labels."""
    costs = rng.random((n, k))
    if outside is not None:
        costs[outside] += 1.0
        if hard_row.any():
            costs[outside & hard_row[:, None]] = np.inf
    return costs


def _y_step(
    ctx: TrainingState,
    stats: EpochStats,
    items: Sequence[int],
    costs: np.ndarray,
    lengths: np.ndarray,
    rows: list[np.ndarray],
    *,
    init: bool,
    penalty: float,
) -> None:
    """The Y-step of a fast-engine batch: the exactly-one DP of its videos in one call on the
    stacked (Σ T_i, K) ``costs`` (minimised); each video's (K,) step seconds in ``rows`` are
    recorded in ``stats`` and replaced."""
    new_rows = ordered_steps_stacked(costs, lengths)
    for j, i in enumerate(items):
        stats.record(ctx, i, new_rows[j], None if init else rows[i], penalty)
        rows[i] = new_rows[j]


# --------------------------------------------------------------------------------------------
# The fast engine, NumPy


def epoch_fast(
    settings: EpochSettings, ctx: TrainingState, epoch: int, rows: list[np.ndarray]
) -> dict[str, Any]:
    """One epoch of the fast engine on CPU (NumPy products, compiled row kernels)."""
    rng, _ = epoch_rng(settings.random_state, epoch)
    init = epoch < settings.epochs_init
    stats = EpochStats()
    weight, bias = ctx.weight, ctx.bias
    keep_p = np.float32(1.0 - settings.dropout)
    for batch in task_batches(ctx.videos, rng, settings.batch_videos):
        items = batch.items
        k = ctx.videos[items[0]].n_steps
        lengths = np.array([ctx.videos[i].n_frames for i in items], dtype=np.int64)
        a = ctx.a_np[batch.task_id]
        outside, hard_row = ctx.batch_masks(items, k, settings.constraints == "hard")
        feats = None
        if init:
            costs = init_costs(rng, int(lengths.sum()), k, outside, hard_row)
        else:
            feats = [ctx.store.full(i) for i in items]
            if settings.y_dropout and settings.dropout > 0:
                feats = [
                    f * (rng.random(f.shape, dtype=np.float32) < keep_p) / keep_p for f in feats
                ]
            costs = a14_costs_np(
                feats,
                [rows[i] for i in items],
                lengths,
                weight,
                bias,
                a,
                ctx.s_np[id(a)],
                lr=settings.lr,
                penalty=settings.penalty,
                outside=outside,
                hard_row=hard_row,
            )
        _y_step(ctx, stats, items, costs, lengths, rows, init=init, penalty=settings.penalty)
        # θ-step on the labelled seconds only (the other rows have zero gradient), with a
        # fresh dropout mask on those rows.
        if feats is not None and not settings.y_dropout:
            x = np.concatenate([f[rows[i]] for f, i in zip(feats, items, strict=True)])
        else:
            x = np.concatenate([ctx.store.rows(i, rows[i]) for i in items])
        if settings.dropout > 0:
            x = x * (rng.random(x.shape, dtype=np.float32) < keep_p) / keep_p
        y = np.tile(ctx.eye(k), (len(items), 1))
        inv_t = np.repeat(1.0 / lengths, k).astype(np.float32)
        gw, gb, loss = theta_gradient_np(x, y, inv_t, weight, bias, a)
        ctx.adam.step([gw, gb])
        stats.loss += loss
    return stats.as_record(epoch, "init" if init else "alternate")


# --------------------------------------------------------------------------------------------
# The fast engine, torch


def epoch_fast_torch(
    settings: EpochSettings, ctx: TrainingState, epoch: int, rows: list[np.ndarray]
) -> dict[str, Any]:
    """The fast engine with torch tensors (any device; same algorithm as NumPy)."""
    import torch

    rng, torch_seed = epoch_rng(settings.random_state, epoch)
    dev = ctx.device
    gen = torch.Generator(device=dev).manual_seed(torch_seed)
    init = epoch < settings.epochs_init
    stats = EpochStats()
    weight, bias = ctx.weight, ctx.bias
    for batch in task_batches(ctx.videos, rng, settings.batch_videos):
        items = batch.items
        k = ctx.videos[items[0]].n_steps
        lengths = np.array([ctx.videos[i].n_frames for i in items], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        n = int(offsets[-1])
        a = ctx.a_torch[batch.task_id]
        outside, hard_row = ctx.batch_masks(items, k, settings.constraints == "hard")
        x_full = None
        if init:
            costs = init_costs(rng, n, k, outside, hard_row)
        else:
            x_full = torch.from_numpy(np.concatenate([ctx.store.full(i) for i in items])).to(dev)
            flat = np.concatenate([rows[i] + offsets[j] for j, i in enumerate(items)])
            y = torch.zeros((n, k), device=dev)
            y[torch.from_numpy(flat).to(dev), torch.arange(k, device=dev).repeat(len(items))] = 1.0
            inv_t = torch.from_numpy(np.repeat(1.0 / lengths, lengths).astype(np.float32)).to(dev)
            pen = None
            if outside is not None:
                pen = torch.from_numpy(
                    outside.astype(np.float32) * np.float32(settings.penalty)
                ).to(dev)
            x = x_full
            if settings.y_dropout and settings.dropout > 0:
                keep = torch.rand(x.shape, generator=gen, device=dev) >= settings.dropout
                x = x * keep / (1.0 - settings.dropout)
            if settings.a14 == "autograd":
                c = a14_costs_autograd(
                    x,
                    y,
                    inv_t,
                    weight,
                    bias,
                    a,
                    pen if pen is not None else torch.zeros_like(y),
                    settings.lr,
                )
            else:
                with torch.no_grad():
                    c = a14_costs(x, y, inv_t, weight, bias, a, pen, settings.lr)
            costs = c.to(torch.float64).cpu().numpy()
            if outside is not None and hard_row.any():
                costs[outside & hard_row[:, None]] = np.inf
        _y_step(ctx, stats, items, costs, lengths, rows, init=init, penalty=settings.penalty)
        if x_full is not None:
            flat = np.concatenate([rows[i] + offsets[j] for j, i in enumerate(items)])
            x_rows = x_full[torch.from_numpy(flat).to(dev)]
        else:
            x_rows = torch.from_numpy(
                np.concatenate([ctx.store.rows(i, rows[i]) for i in items])
            ).to(dev)
        if settings.dropout > 0:
            keep = torch.rand(x_rows.shape, generator=gen, device=dev) >= settings.dropout
            x_rows = x_rows * keep / (1.0 - settings.dropout)
        y_rows = torch.eye(k, device=dev).repeat(len(items), 1)
        inv_rows = torch.from_numpy(np.repeat(1.0 / lengths, k).astype(np.float32)).to(dev)
        with torch.no_grad():
            gw, gb, loss = theta_gradient(x_rows, y_rows, inv_rows, weight, bias, a)
            ctx.adam.step([gw, gb])
        stats.loss += loss
    return stats.as_record(epoch, "init" if init else "alternate")


# --------------------------------------------------------------------------------------------
# The reference engine


def epoch_reference(
    settings: EpochSettings, ctx: TrainingState, epoch: int, rows: list[np.ndarray]
) -> dict[str, Any]:
    """The authors' ``train_epoch``: one video per step, autograd double backward."""
    import torch

    rng, torch_seed = epoch_rng(settings.random_state, epoch)
    torch.manual_seed(torch_seed)  # nn.Dropout draws from the global generator
    init = epoch < settings.epochs_init
    net, dev = ctx.net, ctx.device
    stats = EpochStats()
    for j in rng.permutation(len(ctx.videos)):
        i = int(j)
        v = ctx.videos[i]
        x = torch.from_numpy(ctx.store.full(i)).to(dev)
        a = ctx.a_torch[v.task_id]
        outside = ctx.outside[i]
        hard = settings.constraints == "hard" and outside is not None and ctx.feasible[i]
        # λ·C in the loss with "penalty", and with "hard" on a video that no ordered labelling
        # satisfies (it falls back to the penalty, like in the fast engines).
        fallback = settings.constraints == "hard" and not ctx.feasible[i]
        lam = settings.penalty if settings.constraints == "penalty" or fallback else 0.0
        c_np = (
            outside.astype(np.float32)
            if outside is not None
            else np.zeros((v.n_frames, v.n_steps), np.float32)
        )
        c = torch.from_numpy(c_np).to(dev)
        if init:
            # the authors: dp(y, rand + C); hard constraints forbid instead
            o = rng.random((v.n_frames, v.n_steps)) + c_np
            if hard:
                o[outside] = np.inf
            y_np = ordered_assignment(o, exactly_one=True, maximize=False)
        else:
            y = torch.zeros((v.n_frames, v.n_steps), device=dev)
            y[torch.from_numpy(rows[i]).to(dev), torch.arange(v.n_steps, device=dev)] = 1
            y.requires_grad_(True)
            out = net(x, a)
            loss = (y * (lam * c - torch.log_softmax(out, dim=1))).mean(dim=0).sum()
            grads = torch.autograd.grad(
                loss, list(net.parameters()), create_graph=True, only_inputs=True
            )
            f = loss
            for g in grads:
                f = f - 0.5 * settings.lr * (g**2).sum()
            (y_grad,) = torch.autograd.grad(f, [y], only_inputs=True)
            cost = y_grad.detach().to(torch.float64).cpu().numpy()
            if hard:
                cost[outside] = np.inf
            # the authors' dp(y, grad): exactly one second per step, minimised
            y_np = ordered_assignment(cost, exactly_one=True, maximize=False)
        r = y_np.argmax(axis=0)
        stats.record(ctx, i, r, None if init else rows[i], settings.penalty)
        rows[i] = r
        y_new = torch.from_numpy(y_np.astype(np.float32)).to(dev)
        out = net(x, a)
        loss = (y_new * (lam * c - torch.log_softmax(out, dim=1))).mean(dim=0).sum()
        loss.backward()
        stats.loss += float(loss.detach()) - lam * float((y_new * c).sum()) / v.n_frames
        ctx.optimizer.step()
        net.zero_grad()
    return stats.as_record(epoch, "init" if init else "alternate")


# --------------------------------------------------------------------------------------------
# Supervised topline


def epoch_supervised(settings: EpochSettings, ctx: TrainingState, epoch: int) -> dict[str, Any]:
    """θ-steps on the ground truth (every annotated second), batched like ``fast``."""
    rng, _ = epoch_rng(settings.random_state, epoch)
    keep_p = np.float32(1.0 - settings.dropout)
    loss_sum = 0.0
    for batch in task_batches(ctx.videos, rng, settings.batch_videos):
        vids = [ctx.videos[i] for i in batch.items]
        labelled = [np.flatnonzero(v.target.any(axis=1)) for v in vids]  # type: ignore[union-attr]
        if sum(len(r) for r in labelled) == 0:
            continue
        x = np.concatenate(
            [ctx.store.rows(i, r) for i, r in zip(batch.items, labelled, strict=True)]
        )
        y = np.concatenate([v.target[r] for v, r in zip(vids, labelled, strict=True)]).astype(
            np.float32
        )  # type: ignore[index]
        inv_t = np.concatenate(
            [
                np.full(len(r), 1.0 / v.n_frames, np.float32)
                for v, r in zip(vids, labelled, strict=True)
            ]
        )
        if settings.dropout > 0:
            x = x * (rng.random(x.shape, dtype=np.float32) < keep_p) / keep_p
        loss_sum += ctx.theta_step(x, y, inv_t, batch.task_id)
    return {
        "epoch": epoch + 1,
        "phase": "supervised",
        "loss": loss_sum,
        "outside": None,
        "changed": None,
    }
