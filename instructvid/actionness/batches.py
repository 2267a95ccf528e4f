"""The batches of a training epoch: seeded sequence sampling and a background prefetch thread.

Epoch ``e`` draws from ``numpy.random.default_rng([seed, e])``: it visits every eligible training
video ``sequences_per_video`` times in a random order (or, with category resampling, an equal
number of videos per category), draws the clip starts of a whole batch at once
(:class:`~instructvid.actionness.sampling.SequenceSampler`) and sorts (``y = 1``) or fully
reverses (``y = 0``) each sequence with probability 1/2. :func:`prefetch` runs any batch source
one batch ahead in a background thread, so sampling overlaps with training.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

import numpy as np

from instructvid.actionness.config import TrainConfig
from instructvid.actionness.sampling import SequenceSampler, category_epoch

__all__ = ["Batch", "epoch_batches", "epoch_size", "n_batches", "prefetch"]

#: ``(videos (B,) store indices, starts (B, M) seconds, clip_len (B,) seconds, y (B,) bool)``.
Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

T = TypeVar("T")


def epoch_batches(
    epoch: int,
    config: TrainConfig,
    sampler: SequenceSampler,
    eligible: np.ndarray,
    categories: np.ndarray | None,
) -> Iterator[Batch]:
    """Batches ``(videos (B,), starts (B, M), clip_len (B,), y (B,))`` of one epoch (seeded).

    Args:
        epoch: 0-based epoch (seeds the generator with ``config.seed``).
        config: the run's hyper-parameters.
        sampler: draws the clip starts of videos.
        eligible: store indices of the videos long enough for ``M`` clips.
        categories: category of every store video, or ``None`` (no resampling).
    """
    rng = np.random.default_rng([config.seed, epoch])
    if categories is not None:
        base = eligible[category_epoch(categories[eligible], config.min_category_videos, rng)]
    else:
        base = eligible
    order = rng.permutation(np.tile(base, config.sequences_per_video))
    for lo in range(0, order.size, config.batch_size):
        vids = order[lo : lo + config.batch_size]
        starts, clip = sampler.sample(vids, rng)
        y = rng.random(vids.size) < 0.5
        starts[~y] = starts[~y, ::-1]  # y = 0: fully reversed
        yield vids, starts, clip, y


def epoch_size(config: TrainConfig, eligible: np.ndarray, cats: np.ndarray | None) -> int:
    """Sequences per epoch (with category resampling: categories kept × smallest count).

    Raises:
        ValueError: no category has ``config.min_category_videos`` eligible videos.
    """
    if cats is None:
        return int(eligible.size) * config.sequences_per_video
    _names, counts = np.unique(cats[eligible], return_counts=True)
    kept = counts[counts >= config.min_category_videos]
    if kept.size == 0:
        raise ValueError(
            f"no category has at least {config.min_category_videos} eligible videos "
            f"(largest: {counts.max()}); lower --min-category-videos or drop --equal-categories"
        )
    return int(kept.size * kept.min()) * config.sequences_per_video


def n_batches(n: int, batch: int) -> int:
    """Batches of at most ``batch`` sequences needed for ``n`` sequences."""
    return (n + batch - 1) // batch


def prefetch(source: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Run ``source`` in a background thread, ``depth`` batches ahead (order is preserved).

    numpy and the gather kernel release the GIL, so on two cores sampling (and gathering) the
    next batch overlaps with training on the current one. With the three rotating buffers of
    :func:`~instructvid.actionness.torch_engine.gathered_batches` and ``depth = 1`` a buffer is
    never overwritten while the consumer still reads it.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    sentinel = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(sentinel)
        except BaseException as exc:  # pragma: no cover - forwarded to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is sentinel:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
