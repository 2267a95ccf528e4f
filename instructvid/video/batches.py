"""Feeding a model from a streamed decoder: batches prepared ahead in a thread, the sliding
clips of clip models, and clips and frames of the same rows from one stream — all holding only
what is still needed."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from fractions import Fraction

import numpy as np

__all__ = ["clip_windows", "clips_and_frames", "joint_rate", "prefetch_batches"]


def _stack(batch: list):
    if isinstance(batch[0], tuple):  # items of several arrays: one stacked array per part
        return tuple(np.stack(part) for part in zip(*batch, strict=True))
    return np.stack(batch)


def prefetch_batches(items: Iterable, size: int, depth: int = 2):
    """Stacked batches (B, …) of ``items`` (frames or clips), produced in a thread ahead of the
    model (at most ``depth`` batches wait: memory stays bounded). Items that are tuples of
    arrays give tuples of stacked arrays."""
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
                    pipe.put(_stack(batch))
                    batch = []
                    if stop.is_set():
                        return
            if batch:
                pipe.put(_stack(batch))
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


def joint_rate(clip_rate: float, fps: float) -> Fraction:
    """The lowest sampling rate (per second) that is a whole multiple of both ``clip_rate`` and
    ``fps`` (each read as the decoder reads rates: a fraction with denominator ≤ 1000)."""
    a = Fraction(clip_rate).limit_denominator(1000)
    b = Fraction(fps).limit_denominator(1000)
    return Fraction(math.lcm(a.numerator, b.numerator), math.gcd(a.denominator, b.denominator))


def clips_and_frames(
    samples: Iterable[tuple[int, float, np.ndarray]],
    *,
    fps: float,
    n: int,
    rate: float,
    sample_rate: Fraction,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Row ``t``'s clip and frame from ONE stream: the clip :func:`clip_windows` makes of the
    samples at ``rate`` per second, and the frame a decoder at ``fps`` rows per second takes
    (the first at or after ``t / fps`` s).

    Args:
        samples: ``(k, time_s, image)`` of a RateDecoder at ``sample_rate``, a whole multiple of
            ``rate`` and of ``fps`` (:func:`joint_rate`): its sample ``k·sample_rate/rate`` is
            the first frame at or after ``k / rate`` s, exactly the sample a decoder at ``rate``
            takes, and likewise for ``fps``.
        fps: rows per second; ``n``: samples per clip; ``rate``: the clips' samples per second.

    Yields:
        ``(clip (n, H, W, 3), frame (H, W, 3))`` for each of :func:`clip_windows`'s rows (a
        last frame row without a clip is dropped: the rows are the clips').
    """
    per_clip = sample_rate / Fraction(rate).limit_denominator(1000)
    per_frame = sample_rate / Fraction(fps).limit_denominator(1000)
    if per_clip.denominator != 1 or per_frame.denominator != 1:
        raise ValueError(f"sample rate {sample_rate} is not a multiple of {rate} and {fps}")
    per_clip, per_frame = int(per_clip), int(per_frame)
    frames: dict[int, np.ndarray] = {}

    def clip_samples() -> Iterator[tuple[int, float, np.ndarray]]:
        for k, time, image in samples:
            if k % per_frame == 0:
                frames[k // per_frame] = image
            if k % per_clip == 0:
                yield k // per_clip, time, image

    waiting: list[tuple[int, np.ndarray]] = []  # clips whose frame is not decoded yet
    for row, clip in enumerate(clip_windows(clip_samples(), fps=fps, n=n, rate=rate)):
        waiting.append((row, clip))
        while waiting and waiting[0][0] in frames:
            done, ready = waiting.pop(0)
            yield ready, frames.pop(done)
    if waiting:  # cannot happen: a clip row's time is before the last sample's
        raise RuntimeError(f"no frame for rows {[r for r, _ in waiting]}")
