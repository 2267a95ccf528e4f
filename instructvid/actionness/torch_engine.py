"""The torch training engine: clip means of a batch gathered into a buffer, then autograd.

Used on GPUs and with a custom clip-feature function (the fused engine,
:mod:`instructvid.actionness.fused`, is the default on the CPU). :func:`gathered_batches` fills
one of three rotating float32 buffers with the ``(B, M, D)`` clip means of each batch by a
compiled kernel (:meth:`FeatureStore.clip_means
<instructvid.actionness.store.FeatureStore.clip_means>`); :func:`custom_batches` calls a
user :data:`~instructvid.actionness.model.ClipFeatureFn` per video on its feature file (slow);
:func:`torch_epoch` trains :class:`~instructvid.actionness.model.ActionnessModel` on them with
the BCE loss of eq. 4.3 and the given optimiser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import torch

from instructvid.actionness.batches import Batch
from instructvid.actionness.config import TrainConfig
from instructvid.actionness.model import ActionnessModel, ClipFeatureFn
from instructvid.actionness.store import FeatureStore
from instructvid.io.crosstask import open_features
from instructvid.types import PathLike

__all__ = ["custom_batches", "gathered_batches", "torch_epoch"]


def gathered_batches(
    batches: Iterator[Batch], store: FeatureStore, config: TrainConfig
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Clip means (B, M, D) float32 and ``y`` (B,) float32 of each batch.

    The means go into one of three rotating buffers: run through
    :func:`~instructvid.actionness.batches.prefetch` (one batch ahead), a buffer is never
    overwritten while the consumer still reads it.
    """
    size = config.batch_size * config.n_clips * store.dim
    buffers = [np.empty(size, dtype=np.float32) for _ in range(3)]
    for k, (vids, starts, clip, y) in enumerate(batches):
        h = store.clip_means(vids, starts, clip, out=buffers[k % 3])
        yield h, y.astype(np.float32)


def custom_batches(
    batches: Iterator[Batch],
    store: FeatureStore,
    features: Mapping[str, PathLike],
    clip_fn: ClipFeatureFn,
    cache: dict[int, np.ndarray],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Slow path: a user clip-feature function called per video on its memory-mapped features.

    Args:
        batches: the epoch's batches.
        store: the store (gives the video id of a store index).
        features: ``{video_id: feature path}``.
        clip_fn: ``(features (T, D), starts (n,), ends (n,)) -> (n, D')``.
        cache: ``{store index: opened features}``, kept between epochs.
    """
    for vids, starts, clip, y in batches:
        b, m = starts.shape
        out = None
        for v in np.unique(vids):
            if int(v) not in cache:
                cache[int(v)] = open_features(features[store.video_ids[int(v)]])
            rows = np.flatnonzero(vids == v)
            s = starts[rows].reshape(-1)
            e = s + np.repeat(clip[rows], m)
            h = np.asarray(clip_fn(cache[int(v)], s, e), dtype=np.float32)
            if out is None:
                out = np.empty((b, m, h.shape[-1]), dtype=np.float32)
            out[rows] = h.reshape(rows.size, m, -1)
        yield out, y.astype(np.float32)


def torch_epoch(
    source: Iterable[tuple[np.ndarray, np.ndarray]],
    model: ActionnessModel,
    optim: torch.optim.Optimizer,
    device: torch.device,
    on_batch: Callable[[], None] | None = None,
) -> tuple[float, int, int]:
    """One epoch of the torch engine: an optimiser step per batch ``(h (B, M, D), y (B,))``.

    Returns:
        ``(Σ batch size × mean loss, correct order predictions, sequences)`` over the epoch.
    """
    model.train()
    loss_sum, correct, n_seq = 0.0, 0, 0
    for h_np, y_np in source:
        h = torch.from_numpy(h_np).to(device, non_blocking=True)
        y = torch.from_numpy(y_np).to(device)
        g = model(h)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(g, y.to(g.dtype))
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        b = int(y_np.shape[0])
        loss_sum += float(loss.detach()) * b
        correct += int(((g.detach() > 0) == y.bool()).sum())
        n_seq += b
        if on_batch is not None:
            on_batch()
    return loss_sum, correct, n_seq
