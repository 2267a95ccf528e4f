"""Feeding a model from a streamed decoder: batches prepared ahead in a thread, and the
sliding clips of clip models — both holding only what is still needed."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["clip_windows", "prefetch_batches"]


def prefetch_batches(items: Iterable[np.ndarray], size: int, depth: int = 2):
    """Stacked batches (B, …) of ``items`` (frames or clips), produced in a thread ahead of the
    model (at most ``depth`` batches wait: memory stays bounded)."""
    import queue
    import threading

    pipe: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        batch: list[np.ndarray] = []
        try:
            for item in items:
                batch.append(item)
                if len(batch) == size:
                    pipe.put(np.stack(batch))
                    batch = []
                    if stop.is_set():
                        return
            if batch:
                pipe.put(np.stack(batch))
            pipe.put(None)
        except BaseException as exc:  # handed to the consumer
            pipe.put(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := pipe.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                pipe.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def clip_windows(
    samples: Iterable[tuple[int, float, np.ndarray]], *, fps: float, n: int, rate: float
) -> Iterator[np.ndarray]:
    """Clips for clip models: row ``t`` = ``n`` samples (taken at ``rate`` per second) centred on
    time ``(t + 0.5) / fps`` s, the first / last sample repeated beyond the ends.

    Args:
        samples: ``(k, time_s, image)`` of sample ``k`` = time ``k / rate`` (a RateDecoder).
        fps: rows per second; ``n``: samples per clip; ``rate``: samples per second.

    Yields:
        (n, H, W, 3) clips, one per row, for rows ``t = 0 … ⌊last sample time · fps⌋``; only the
        samples still needed are held.
    """
    window: dict[int, np.ndarray] = {}
    row, last = 0, -1

    def bounds(t: int) -> tuple[int, int]:
        lo = round((t + 0.5) / fps * rate) - n // 2
        return lo, lo + n - 1

    def clip(t: int) -> np.ndarray:
        lo, hi = bounds(t)
        return np.stack([window[min(max(j, 0), last)] for j in range(lo, hi + 1)])

    for k, _, image in samples:
        window[k], last = image, k
        while bounds(row)[1] <= last:
            yield clip(row)
            row += 1
            keep = min(max(bounds(row)[0], 0), last)
            for j in [j for j in window if j < keep]:
                del window[j]
    while last >= 0 and row <= math.floor(last / rate * fps + 1e-9):
        yield clip(row)
        row += 1
