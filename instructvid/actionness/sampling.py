"""Sampling training sequences for order verification (thesis §4.3.2, §4.4.2).

Units: **seconds** (= feature rows, one per second). A clip is a run of whole seconds
``[start, start + L)``.

A sequence of a video of ``T`` seconds is drawn as follows:

1. **Trimming** (training only): the usable region is ``[lo, hi) = [ceil(trim·T), floor((1 −
   trim)·T))``; intros and outros are otherwise an order shortcut (thesis Fig. 4.3). Default
   ``trim = 0.3``; ``trim = 0`` keeps the whole video.
2. **Window** of range ``d`` seconds: ``w = min(d, hi − lo)`` seconds starting uniformly at
   random inside the region; when the region is shorter than ``d`` the window is the region.
3. **Clips**: ``M`` clips of ``L = max(1, round(w / 10))`` seconds (``d / 10`` when the region is
   long enough) with distinct start seconds inside the window, sorted by time. Starts are drawn
   as ``sort(u_1..u_M) + (0, 1, …, M − 1)`` with ``u_k`` uniform on ``0..w − L − M + 1`` (a
   bijection between multisets and distinct sorted tuples; nearly uniform, fully vectorised).

A video whose region cannot hold ``M`` distinct clip starts is not eligible and is skipped.
Everything is vectorised over a batch with numpy; randomness comes from a
``numpy.random.Generator`` passed in (seeds as arguments).

Category resampling (HowTo100M in the thesis): categories with fewer than ``min_videos`` videos
are dropped, and every epoch draws the same number of videos from each remaining category (the
size of the smallest one, without replacement).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "SequenceSampler",
    "TrainEvalOverlapError",
    "category_epoch",
    "check_no_overlap",
    "trim_bounds",
]


class TrainEvalOverlapError(ValueError):
    """Training videos include evaluation videos (never train on what you evaluate)."""

    def __init__(self, overlap: Sequence[str], source: str = "the evaluation list") -> None:
        self.overlap = list(overlap)
        shown = ", ".join(self.overlap[:5]) + (" …" if len(self.overlap) > 5 else "")
        super().__init__(
            f"{len(self.overlap)} training video(s) are also in {source}: {shown}. "
            "Evaluation videos are never sampled for training; remove them from the training "
            "list (or evaluate on other videos)."
        )


def check_no_overlap(
    train_ids: Iterable[str], eval_ids: Iterable[str], *, source: str = "the evaluation list"
) -> None:
    """Raise :class:`TrainEvalOverlapError` when a training video is an evaluation video."""
    ev = set(eval_ids)
    overlap = sorted(v for v in set(train_ids) if v in ev)
    if overlap:
        raise TrainEvalOverlapError(overlap, source)


def trim_bounds(lengths: np.ndarray, trim: float) -> tuple[np.ndarray, np.ndarray]:
    """Usable region ``[lo, hi)`` (seconds) of videos of ``lengths`` seconds after trimming.

    ``lo = ceil(trim·T)``, ``hi = floor((1 − trim)·T)`` (with a 1e-9 tolerance against
    rounding), so every kept second ``t`` satisfies ``trim·T <= t`` and ``t + 1 <= (1 − trim)·T``.
    """
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim}")
    t = np.asarray(lengths, dtype=np.float64)
    lo = np.ceil(trim * t - 1e-9).astype(np.int64)
    hi = np.floor((1 - trim) * t + 1e-9).astype(np.int64)
    return lo, np.maximum(hi, lo)


@dataclass
class SequenceSampler:
    """Draws batches of M-clip sequences from videos of known lengths.

    Args:
        lengths: (n_videos,) video lengths in seconds (feature rows).
        range_s: the range ``d`` in seconds.
        n_clips: ``M`` clips per sequence (>= 2; 5 in the thesis).
        trim: fraction trimmed at each end (0.3 for training, 0 = none).

    Attributes (per video, (n_videos,) int64): ``lo``, ``window`` (w), ``clip_len`` (L),
    ``eligible`` (bool).
    """

    lengths: np.ndarray
    range_s: int
    n_clips: int = 5
    trim: float = 0.3
    lo: np.ndarray = field(init=False, repr=False)
    region: np.ndarray = field(init=False, repr=False)
    window: np.ndarray = field(init=False, repr=False)
    clip_len: np.ndarray = field(init=False, repr=False)
    eligible: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.n_clips < 2:
            raise ValueError(f"M must be >= 2 (there are no pairs otherwise), got {self.n_clips}")
        if int(self.range_s) != self.range_s or self.range_s < 1:
            raise ValueError(
                f"range d must be a positive whole number of seconds, got {self.range_s}"
            )
        self.range_s = int(self.range_s)
        self.lengths = np.asarray(self.lengths, dtype=np.int64).reshape(-1)
        lo, hi = trim_bounds(self.lengths, self.trim)
        self.lo = lo
        self.region = hi - lo
        self.window = np.minimum(self.range_s, self.region)
        self.clip_len = np.maximum(1, np.floor(self.window / 10 + 0.5).astype(np.int64))
        self.eligible = (self.window - self.clip_len + 1) >= self.n_clips

    @property
    def nominal_clip_len(self) -> int:
        """``round(d / 10)`` seconds: the clip length when a video's region is at least ``d``."""
        return max(1, int(np.floor(self.range_s / 10 + 0.5)))

    def sample(self, videos: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Clip starts of one sequence per entry of ``videos``.

        Args:
            videos: (B,) indices of eligible videos.
            rng: the random generator (consumed: 1 + M uniform draws per sequence).

        Returns:
            ``starts`` (B, M) int64 seconds, increasing along M; ``clip_len`` (B,) int64 seconds.
            Clip ``m`` of sequence ``b`` covers ``[starts[b, m], starts[b, m] + clip_len[b])``.
        """
        v = np.asarray(videos, dtype=np.int64).reshape(-1)
        if v.size and not self.eligible[v].all():
            bad = v[~self.eligible[v]][:3]
            raise ValueError(f"videos {bad.tolist()} are too short for M={self.n_clips} clips")
        m = self.n_clips
        region, window, clip = self.region[v], self.window[v], self.clip_len[v]
        u = rng.random((v.size, 1 + m))
        w0 = self.lo[v] + np.floor(u[:, 0] * (region - window + 1)).astype(np.int64)
        slots = window - clip + 1 - m + 1  # choices for each sorted u_k
        offs = np.floor(u[:, 1:] * slots[:, None]).astype(np.int64)
        offs.sort(axis=1)
        starts = w0[:, None] + offs + np.arange(m, dtype=np.int64)[None, :]
        return starts, clip


def category_epoch(
    categories: Sequence[str] | np.ndarray,
    min_videos: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One epoch of equal per-category resampling.

    Args:
        categories: (n_videos,) category of each (eligible) video.
        min_videos: categories with fewer videos are dropped (3,000 in the thesis).
        rng: random generator.

    Returns:
        int64 indices into ``categories``: ``n`` videos of every kept category, where ``n`` is
        the size of the smallest kept category; drawn without replacement, in category order.

    Raises:
        ValueError: when no category has ``min_videos`` videos.
    """
    cats = np.asarray(categories)
    _names, inverse, counts = np.unique(cats, return_inverse=True, return_counts=True)
    kept = np.flatnonzero(counts >= min_videos)
    if kept.size == 0:
        raise ValueError(
            f"no category has at least {min_videos} videos (largest: {counts.max() if counts.size else 0}); "
            "lower the threshold or turn category resampling off"
        )
    n = int(counts[kept].min())
    out = []
    for c in kept:
        members = np.flatnonzero(inverse == c)
        out.append(rng.choice(members, size=n, replace=False))
    return np.concatenate(out).astype(np.int64)
