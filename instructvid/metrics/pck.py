"""Percentage of correct keypoints (PCK) in 3D (thesis §5.5.1, Fig. 5.6; and §5.5.2, Fig. 5.7).

A keypoint is *correct* at tolerance τ when the Euclidean distance between its predicted and its
ground-truth 3D position is at most τ (``<=``). For one evaluation pair (source video → target
video), PCK(τ) is the fraction of its keypoints that are correct; the thesis plots the **mean over
pairs** of that fraction against τ in centimetres (each pair counts the same, whatever its number
of keypoints). A keypoint that could not be transferred (no alignment) counts as wrong: pass its
error as ``inf`` (or NaN, treated the same).

Values are fractions in [0, 1]; distances in whatever unit the tolerances use (cm here).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "chance_pck_curve",
    "keypoint_errors",
    "mean_pck_curve",
    "parse_tolerances",
    "pck",
    "pck_curve",
]


def keypoint_errors(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Euclidean distances (N,) between (N, D) predicted and ground-truth points; NaN rows → inf."""
    p = np.asarray(predicted, np.float64)
    g = np.asarray(truth, np.float64)
    if p.shape != g.shape or p.ndim != 2:
        raise ValueError(
            f"expected two (N, D) arrays of the same shape, got {p.shape} and {g.shape}"
        )
    err = np.linalg.norm(p - g, axis=1)
    return np.where(np.isnan(err), np.inf, err)


def pck(errors: Sequence[float] | np.ndarray, tolerance: float) -> float:
    """Fraction of ``errors`` (N,) at most ``tolerance``; NaN counts as wrong; NaN if N = 0."""
    e = np.asarray(errors, np.float64).ravel()
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if e.size == 0:
        return float("nan")
    return float(np.mean(np.nan_to_num(e, nan=np.inf) <= tolerance))


def pck_curve(errors: Sequence[float] | np.ndarray, tolerances: Sequence[float]) -> np.ndarray:
    """PCK at each tolerance: (T,) fractions for the errors (N,) of one pair."""
    return np.array([pck(errors, t) for t in tolerances], np.float64)


def mean_pck_curve(
    errors_per_pair: Sequence[Sequence[float] | np.ndarray], tolerances: Sequence[float]
) -> np.ndarray:
    """Mean over pairs of their PCK curves: (T,); pairs without keypoints are skipped."""
    curves = [pck_curve(e, tolerances) for e in errors_per_pair if np.asarray(e).size > 0]
    if not curves:
        return np.full(len(tolerances), np.nan)
    return np.mean(curves, axis=0)


def chance_pck_curve(
    points: np.ndarray, target: Sequence[float] | np.ndarray, tolerances: Sequence[float]
) -> np.ndarray:
    """Expected PCK of a prediction drawn uniformly among the (N, 3) ``points`` (a model's points):
    at each tolerance, the exact share of points within it of ``target`` (3,) — (T,) fractions.

    The "Chance" baseline of thesis Fig. 5.7 / Table 5.1, as its expectation rather than a draw.
    """
    p = np.asarray(points, np.float64).reshape(-1, 3)
    if not len(p):
        return np.full(len(tolerances), np.nan)
    d = np.linalg.norm(p - np.asarray(target, np.float64).reshape(1, 3), axis=1)
    return pck_curve(d, tolerances)


def parse_tolerances(spec: str) -> list[float]:
    """``"1:30"`` → 1, 2, …, 30; ``"1:30:0.5"`` → steps of 0.5; ``"5,10,30"`` → a list."""
    spec = spec.strip()
    if ":" in spec:
        parts = [float(x) for x in spec.split(":")]
        if len(parts) not in (2, 3):
            raise ValueError(f"tolerances {spec!r}: use START:STOP[:STEP] or a comma list")
        start, stop = parts[0], parts[1]
        step = parts[2] if len(parts) == 3 else 1.0
        if step <= 0 or stop < start:
            raise ValueError(f"tolerances {spec!r}: need STOP >= START and STEP > 0")
        n = int(np.floor((stop - start) / step + 1e-9)) + 1
        return [round(start + i * step, 10) for i in range(n)]
    values = [float(x) for x in spec.split(",") if x.strip()]
    if not values or any(v < 0 for v in values):
        raise ValueError(f"tolerances {spec!r}: need non-negative numbers")
    return values
