"""3D similarity transforms: Umeyama least squares and a seeded RANSAC around it (thesis §5.3.4).

A similarity S = (s, R, t) maps a point x of the source frame to ``S(x) = s · R · x + t`` in the
destination frame (x_dst = scale · R · x_src + t, the convention of the alignment graph).
Composition: ``(S2 @ S1)(x) = S2(S1(x))``; inverse: ``(1/s) Rᵀ (x − t)``.

:func:`umeyama` is the closed form of Umeyama (1991) for (N, 3) ↔ (N, 3) correspondences.
:func:`ransac_umeyama` samples minimal sets of 3 correspondences with a seeded generator, refuses
degenerate samples (collinear or nearly coincident points), scores by the number of points within
``threshold`` of their target, and refits on all inliers. Its threshold is relative to the
scene's extent by default (``rel_threshold`` × the median distance of the destination points to
their median), since each per-video model has its own arbitrary scale. Inputs with too few points
or with all points (nearly) collinear raise :class:`DegenerateError` — never a wrong transform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DegenerateError",
    "RansacResult",
    "Similarity",
    "is_degenerate",
    "ransac_umeyama",
    "scene_extent",
    "umeyama",
]


class DegenerateError(ValueError):
    """The correspondences cannot determine a similarity (too few, or collinear points)."""


@dataclass(frozen=True, eq=False)
class Similarity:
    """x_dst = scale · R · x_src + t. ``R`` (3, 3) a rotation, ``t`` (3,), ``scale`` > 0."""

    scale: float
    R: np.ndarray
    t: np.ndarray

    @staticmethod
    def identity() -> Similarity:
        return Similarity(1.0, np.eye(3), np.zeros(3))

    def __post_init__(self) -> None:
        R = np.asarray(self.R, np.float64).reshape(3, 3)
        t = np.asarray(self.t, np.float64).reshape(3)
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise ValueError(f"similarity scale must be finite and > 0, got {self.scale}")
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "scale", float(self.scale))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Apply to (N, 3) or (3,) points."""
        p = np.asarray(points, np.float64)
        return self.scale * p @ self.R.T + self.t

    def __matmul__(self, other: Similarity) -> Similarity:
        """``(self @ other)(x) == self(other(x))``."""
        return Similarity(
            self.scale * other.scale, self.R @ other.R, self.scale * self.R @ other.t + self.t
        )

    def inverse(self) -> Similarity:
        return Similarity(1.0 / self.scale, self.R.T, -(self.R.T @ self.t) / self.scale)

    def matrix(self) -> np.ndarray:
        """(4, 4) homogeneous matrix."""
        m = np.eye(4)
        m[:3, :3] = self.scale * self.R
        m[:3, 3] = self.t
        return m

    def rotation_error_deg(self, other: Similarity) -> float:
        """Angle (degrees) of ``self.R · other.Rᵀ``."""
        c = (np.trace(self.R @ other.R.T) - 1) / 2
        return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))

    def to_json(self) -> dict:
        return {"scale": self.scale, "R": self.R.tolist(), "t": self.t.tolist()}

    @staticmethod
    def from_json(d: dict) -> Similarity:
        return Similarity(float(d["scale"]), np.asarray(d["R"], float), np.asarray(d["t"], float))


def _check_pairs(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.ndim != 2 or src.shape[1] != 3 or src.shape != dst.shape:
        raise ValueError(
            f"expected two (N, 3) arrays of the same shape, got {src.shape} and {dst.shape}"
        )
    if not (np.isfinite(src).all() and np.isfinite(dst).all()):
        raise ValueError("correspondences contain NaN or inf")
    return src, dst


def is_degenerate(points: np.ndarray, *, rel_tol: float = 1e-3) -> bool:
    """True if the (N, 3) points are fewer than 3, coincident or (nearly) collinear.

    Collinear: the second singular value of the centred points is below ``rel_tol`` times the
    first (a line leaves the rotation about it undetermined).
    """
    p = np.asarray(points, np.float64)
    if len(p) < 3:
        return True
    sv = np.linalg.svd(p - p.mean(axis=0), compute_uv=False)
    return bool(sv[0] <= 1e-12 or sv[1] <= rel_tol * sv[0])


def umeyama(src: np.ndarray, dst: np.ndarray, *, with_scale: bool = True) -> Similarity:
    """Least-squares similarity dst ≈ s R src + t (Umeyama 1991, eqs. 34–42).

    Args:
        src: (N, 3) source points, N >= 3, not collinear.
        dst: (N, 3) destination points.
        with_scale: fit the scale (else s = 1, a rigid transform).

    Raises:
        DegenerateError: fewer than 3 points, or collinear/coincident source or destination.
    """
    src, dst = _check_pairs(src, dst)
    if is_degenerate(src) or is_degenerate(dst):
        raise DegenerateError(
            f"cannot fit a similarity to {len(src)} correspondences: need >= 3 non-collinear points"
        )
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rot = u @ sign @ vt
    var_s = (xs**2).sum() / len(src)
    scale = float(np.trace(np.diag(d) @ sign) / var_s) if with_scale else 1.0
    if not scale > 0:
        raise DegenerateError(
            "Umeyama gave a non-positive scale: the correspondences are inconsistent"
        )
    return Similarity(scale, rot, mu_d - scale * rot @ mu_s)


def scene_extent(points: np.ndarray) -> float:
    """A robust size of a point set: median distance of the (N, 3) points to their median."""
    p = np.asarray(points, np.float64)
    return float(np.median(np.linalg.norm(p - np.median(p, axis=0), axis=1)))


@dataclass(frozen=True)
class RansacResult:
    """A robust fit: the similarity, the (N,) inlier mask and the threshold used (dst units)."""

    similarity: Similarity
    inliers: np.ndarray
    threshold: float
    iterations: int

    @property
    def n_inliers(self) -> int:
        return int(self.inliers.sum())


def ransac_umeyama(
    src: np.ndarray,
    dst: np.ndarray,
    *,
    threshold: float | None = None,
    rel_threshold: float = 0.03,
    max_iterations: int = 2000,
    confidence: float = 0.9999,
    min_inliers: int = 6,
    seed: int = 0,
    with_scale: bool = True,
) -> RansacResult:
    """RANSAC over minimal samples of 3 correspondences + Umeyama refit on the inliers.

    Args:
        src: (N, 3) points in the source model.
        dst: (N, 3) corresponding points in the destination model.
        threshold: inlier distance in destination units; default ``rel_threshold`` ×
            :func:`scene_extent` of ``dst``.
        max_iterations: cap on samples (the adaptive count from ``confidence`` may stop earlier).
        min_inliers: fewer inliers in the best model raises :class:`DegenerateError`.
        seed: seed of the sampling.

    Raises:
        DegenerateError: fewer than max(3, min_inliers) correspondences, all of them collinear, or
            no sample reaching ``min_inliers`` inliers with a non-degenerate inlier set.
    """
    src, dst = _check_pairs(src, dst)
    n = len(src)
    if n < max(3, min_inliers):
        raise DegenerateError(
            f"only {n} 3D-3D correspondences; need at least {max(3, min_inliers)}"
        )
    if is_degenerate(src) or is_degenerate(dst):
        raise DegenerateError("all 3D-3D correspondences are (nearly) collinear")
    if threshold is None:
        extent = scene_extent(dst)
        if extent <= 0:
            raise DegenerateError("the destination points have no extent")
        threshold = rel_threshold * extent
    rng = np.random.default_rng(seed)
    best_mask, best_count = None, 0
    needed, it = max_iterations, 0
    while it < min(needed, max_iterations):
        it += 1
        idx = rng.choice(n, size=3, replace=False)
        if is_degenerate(src[idx], rel_tol=0.05) or is_degenerate(dst[idx], rel_tol=0.05):
            continue
        try:
            sim = umeyama(src[idx], dst[idx], with_scale=with_scale)
        except DegenerateError:
            continue
        mask = np.linalg.norm(sim(src) - dst, axis=1) <= threshold
        count = int(mask.sum())
        if count > best_count:
            best_mask, best_count = mask, count
            w = count / n
            denom = math.log(max(1e-12, 1 - w**3))
            needed = math.ceil(math.log(1 - confidence) / denom) if denom < 0 else 1
    if best_mask is None or best_count < max(3, min_inliers):
        raise DegenerateError(
            f"RANSAC found no similarity with >= {max(3, min_inliers)} inliers "
            f"(best {best_count} of {n}, threshold {threshold:.4g})"
        )
    # refit on the inliers, then re-collect the inliers once (local optimisation)
    mask = best_mask
    for _ in range(3):
        if is_degenerate(src[mask]) or is_degenerate(dst[mask]):
            raise DegenerateError("the RANSAC inliers are (nearly) collinear")
        sim = umeyama(src[mask], dst[mask], with_scale=with_scale)
        new_mask = np.linalg.norm(sim(src) - dst, axis=1) <= threshold
        if new_mask.sum() < mask.sum() or np.array_equal(new_mask, mask):
            break
        mask = new_mask
    return RansacResult(sim, mask, float(threshold), it)
