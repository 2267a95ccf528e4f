"""Frame sampling: which N of a video's frames to reconstruct (thesis §5.3.1).

Three strategies, made by name (``sample_frames("random", …)``):

- ``random`` (the thesis's default): N distinct frames drawn uniformly at random with a seed;
- ``uniform``: N frames evenly spaced in decode order (first and last included);
- ``sharp``: the video cut into N equal runs of frames, and in each the sharpest frame (largest
  variance of the Laplacian of the grey image) — avoids motion-blurred frames.

Every strategy returns sorted, distinct 0-based frame indices; when the video has at most N
frames, all of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["SAMPLERS", "sample_frames", "sample_indices", "sharpness"]

SAMPLERS = ("random", "uniform", "sharp")


def sharpness(rgb: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image: larger is sharper. ``rgb``: (H, W[, 3])."""
    import cv2

    img = np.asarray(rgb)
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[:, :, :3], np.uint8), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F).var())


def sample_indices(
    n_total: int,
    n: int,
    *,
    method: str = "random",
    seed: int = 0,
    scores: Sequence[float] | None = None,
) -> np.ndarray:
    """Indices of ``n`` frames out of ``n_total``.

    Args:
        n_total: number of frames available.
        n: number of frames wanted (>= 1).
        method: ``"random"``, ``"uniform"`` or ``"sharp"``.
        seed: seed of ``"random"``.
        scores: (n_total,) sharpness of every frame, required by ``"sharp"``.

    Returns:
        (min(n, n_total),) int64, sorted, distinct.
    """
    if n < 1:
        raise ValueError(f"number of frames to sample must be >= 1, got {n}")
    if n_total < 0:
        raise ValueError(f"n_total must be >= 0, got {n_total}")
    if method not in SAMPLERS:
        raise ValueError(f"unknown sampling method {method!r}; choose one of {SAMPLERS}")
    if n_total <= n:
        return np.arange(n_total, dtype=np.int64)
    if method == "random":
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(n_total, size=n, replace=False)).astype(np.int64)
    if method == "uniform":
        return np.unique(np.linspace(0, n_total - 1, n).round().astype(np.int64))
    if scores is None or len(scores) != n_total:
        raise ValueError("method 'sharp' needs one sharpness score per frame")
    s = np.asarray(scores, np.float64)
    edges = np.linspace(0, n_total, n + 1).round().astype(np.int64)
    return np.array([a + int(np.argmax(s[a:b])) for a, b in itertools.pairwise(edges)], np.int64)


def sample_frames(path, n: int, *, method: str = "random", seed: int = 0):
    """Decode ``n`` sampled frames of the video at ``path``: ``[(index, time_s, rgb)]``.

    ``random`` and ``uniform`` need the frame count (one demux-and-decode pass), ``sharp`` the
    sharpness of every frame (computed in the same pass); the kept frames come from a second pass.
    """
    from instructvid.video.decode import iter_frames, read_frames

    if method == "sharp":
        scores = [sharpness(rgb) for _, _, rgb in iter_frames(path)]
        return read_frames(path, sample_indices(len(scores), n, method="sharp", scores=scores))
    from instructvid.video.decode import probe_video

    info = probe_video(path)
    return read_frames(path, sample_indices(info.n_frames, n, method=method, seed=seed))
