"""The figures of the run reports (matplotlib, Agg). Each function returns a figure; the page
saves and embeds it.

- :func:`step_timeline`: per-step scores over time with the predicted step times, the ground
  truth in yellow, hits green and misses red, and frames of the video at the predicted times
  (thesis Figs. A.2–A.7);
- :func:`normalised_time_curve`: a per-second score averaged over videos against normalised
  time (Figs. 4.3, 4.6);
- :func:`ar_an_curves`: average recall against the number of proposals per video (Fig. 4.6);
- :func:`point_cloud`: a 3D point cloud with cameras and marked points, seen from above and
  from the side.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "ar_an_curves",
    "frames_at",
    "normalised_time_curve",
    "point_cloud",
    "step_timeline",
]


def frames_at(video: Path, seconds: Sequence[float], size: int = 96) -> list[np.ndarray | None]:
    """RGB frames (about ``size`` pixels high) of a video at the given seconds: the first
    decoded frame at or after each time; None where the video ends earlier or cannot be read."""
    from instructvid.video.decode import VideoDecodeError, iter_frames

    wanted = sorted(set(float(s) for s in seconds))
    got: dict[float, np.ndarray] = {}
    try:
        i = 0
        for _, time, rgb in iter_frames(video):
            while i < len(wanted) and time >= wanted[i] - 1e-6:
                got[wanted[i]] = _thumbnail(rgb, size)
                i += 1
            if i == len(wanted):
                break
    except (VideoDecodeError, OSError):
        pass
    return [got.get(float(s)) for s in seconds]


def _thumbnail(rgb: np.ndarray, size: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    scale = size / max(h, 1)
    return cv2.resize(rgb, (max(1, round(w * scale)), size), interpolation=cv2.INTER_AREA)


def step_timeline(
    probabilities: np.ndarray,
    predicted: Sequence[int],
    step_names: Sequence[str],
    *,
    truth: Sequence[tuple[int, float, float]] = (),
    has_truth: bool = False,
    frames: Sequence[np.ndarray | None] = (),
    title: str = "",
):
    """Per-step scores over time with predictions, ground truth and frames.

    Args:
        probabilities: (T, K) per-second step scores in [0, 1] (one row per second).
        predicted: (K,) predicted second of each step.
        step_names: K step texts.
        truth: ground-truth ``(step 0-based, start s, end s)`` segments.
        has_truth: whether an annotation exists (then predictions are hits or misses).
        frames: frames at the predicted seconds (K, None where missing).
        title: the figure title.
    """
    t_len, k = probabilities.shape
    with_frames = any(f is not None for f in frames)
    fig = plt.figure(figsize=(11, 0.35 * k + 1.8 + (1.4 if with_frames else 0)))
    grid = fig.add_gridspec(
        2 if with_frames else 1, 1, height_ratios=[0.35 * k + 1.2, 1.4][: 2 if with_frames else 1]
    )
    ax = fig.add_subplot(grid[0])
    ax.imshow(
        probabilities.T, aspect="auto", cmap="Blues", vmin=0, vmax=1, interpolation="nearest",
        extent=(0, t_len, k - 0.5, -0.5),
    )  # fmt: skip
    for step, start, end in truth:
        ax.add_patch(
            plt.Rectangle((start, step - 0.45), end - start, 0.9, color="gold", alpha=0.55, lw=0)
        )
    for step, second in enumerate(predicted):
        hit = any(s == step and start <= second + 0.5 <= end + 0.5 for s, start, end in truth)
        colour = ("green" if hit else "red") if has_truth else "black"
        ax.plot(second + 0.5, step, marker="o", ms=7, color=colour, mec="white")
    ax.set_yticks(range(k))
    ax.set_yticklabels([f"{i + 1} {name}" for i, name in enumerate(step_names)], fontsize=8)
    ax.set_xlabel("time (s)")
    ax.set_title(title, fontsize=10)
    if with_frames:
        row = fig.add_subplot(grid[1])
        tiles = [f for f in frames if f is not None]
        height = max(f.shape[0] for f in tiles)
        padded = [
            np.pad(f, ((0, height - f.shape[0]), (0, 4), (0, 0)), constant_values=255)
            for f in tiles
        ]
        row.imshow(np.concatenate(padded, axis=1))
        row.set_axis_off()
        labels = [f"{i + 1}@{predicted[i]}s" for i, f in enumerate(frames) if f is not None]
        row.set_title("frames at the predicted times: " + ", ".join(labels), fontsize=8)
    fig.tight_layout()
    return fig


def normalised_time_curve(
    curves: Mapping[str, Sequence[np.ndarray]], *, bins: int = 20, ylabel: str = "score"
):
    """Each named set of per-second (T,) arrays, averaged over videos in ``bins`` bins of
    normalised time (0 = start, 1 = end of each video), mean ± std over videos."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    centres = (np.arange(bins) + 0.5) / bins
    for name, arrays in curves.items():
        rows = []
        for a in arrays:
            a = np.asarray(a, np.float64)
            if a.size == 0:
                continue
            index = np.minimum((np.arange(a.size) + 0.5) / a.size * bins, bins - 1).astype(int)
            total = np.bincount(index, a, minlength=bins)
            count = np.bincount(index, minlength=bins)
            rows.append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
        if not rows:
            continue
        with warnings.catch_warnings():  # bins no short video reaches are NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmean(rows, axis=0)
            s = np.nanstd(rows, axis=0)
        ax.plot(centres, m, label=name)
        ax.fill_between(centres, m - s, m + s, alpha=0.2)
    ax.set_xlabel("normalised time")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ar_an_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]]):
    """Average recall (%) against average proposals per video (log scale), one line a method."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, (an, ar) in curves.items():
        ax.plot(an, 100 * np.asarray(ar, float), label=name)
    ax.set_xscale("log")
    ax.set_xlabel("average number of proposals per video (AN)")
    ax.set_ylabel("average recall (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def point_cloud(
    points: np.ndarray,
    *,
    colors: np.ndarray | None = None,
    cameras: np.ndarray | None = None,
    marked: np.ndarray | None = None,
    title: str = "",
    max_points: int = 20000,
):
    """Top (x, y) and side (x, z) views of a point cloud (N, 3) with camera centres (C, 3) and
    marked points (M, 3) — transferred keypoints or grounded voxels."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    if len(pts) > max_points:
        keep = np.random.default_rng(0).choice(len(pts), max_points, replace=False)
        pts = pts[keep]
        colors = colors[keep] if colors is not None else None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, (a, b, name) in zip(axes, ((0, 1, "top (x, y)"), (0, 2, "side (x, z)")), strict=True):
        c = (np.asarray(colors, float) / 255.0) if colors is not None else "grey"
        ax.scatter(pts[:, a], pts[:, b], s=1, c=c, alpha=0.6, linewidths=0)
        if cameras is not None and len(cameras):
            cam = np.asarray(cameras, float).reshape(-1, 3)
            ax.scatter(cam[:, a], cam[:, b], s=30, marker="^", c="tab:blue", label="cameras")
        if marked is not None and len(marked):
            m = np.asarray(marked, float).reshape(-1, 3)
            ax.scatter(m[:, a], m[:, b], s=40, marker="x", c="tab:red", label="marked points")
        ax.set_title(name, fontsize=9)
        ax.set_aspect("equal", adjustable="datalim")
    handles, _ = axes[0].get_legend_handles_labels()
    if handles:
        axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
