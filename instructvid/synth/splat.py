"""A tiny point-splatting renderer: coloured surface samples → small RGB frames with a z-buffer.

Enough for the grounding world's videos (few, small frames, in milliseconds each, no GPU): the
surface of a mesh (triangle rows as in :mod:`instructvid.synth.scene`) is sampled uniformly by
area, each sample gets its part's colour with a fixed per-sample texture noise, and a frame draws
every sample as a ``splat`` × ``splat`` square, nearest sample winning. Cameras follow COLMAP's
convention (``x_cam = R x_world + t``, ``u = fx x/z + cx``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["render_points", "sample_surface", "solid_noise"]


def sample_surface(rows: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (n, 3) uniformly on the triangles of ``rows`` (3M, ≥ 3): positions in cols 0:3."""
    tri = np.asarray(rows, np.float64)[:, :3].reshape(-1, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if n <= 0 or area.sum() <= 0:
        return np.zeros((0, 3))
    pick = rng.choice(len(tri), size=n, p=area / area.sum())
    a, b = rng.random(n), rng.random(n)
    flip = a + b > 1
    a, b = np.where(flip, 1 - a, a), np.where(flip, 1 - b, b)
    t = tri[pick]
    return t[:, 0] + a[:, None] * (t[:, 1] - t[:, 0]) + b[:, None] * (t[:, 2] - t[:, 0])


def _lattice(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray, seed: int) -> np.ndarray:
    """A value in [0, 1) per integer lattice point (hashed: the same point, the same value)."""
    h = (
        ix.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        ^ iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        ^ iz.astype(np.uint64) * np.uint64(0x165667B19E3779F9)
        ^ np.uint64(seed & 0xFFFFFFFF) * np.uint64(0x27D4EB2F165667C5)
    )
    for shift, mult in ((31, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        h = (h ^ (h >> np.uint64(shift))) * np.uint64(mult)
    h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def solid_noise(
    points: np.ndarray, seed: int, *, cells_m: tuple[float, ...] = (0.06, 0.03, 0.015)
) -> np.ndarray:
    """A solid texture: multi-octave value noise (N,) in [-1, 1] at (N, 3) ``points`` (metres).

    Every octave interpolates hashed lattice values (cell sizes ``cells_m``, smoothstep
    trilinear), so the value is a function of the 3D position alone: a surface point looks the
    same from every viewpoint, and neighbouring points vary smoothly (blobs and edges that local
    features can find again in another view). Deterministic in ``seed``.
    """
    with np.errstate(over="ignore"):
        p = np.asarray(points, np.float64)
        total, weight = np.zeros(len(p)), 0.0
        for octave, cell in enumerate(cells_m):
            q = p / cell + 0.37 * (octave + 1)  # shifted so that octaves' lattices differ
            i0 = np.floor(q).astype(np.int64)
            f = q - i0
            f = f * f * (3 - 2 * f)
            acc = np.zeros(len(p))
            for dx in (0, 1):
                for dy in (0, 1):
                    for dz in (0, 1):
                        w = (
                            (f[:, 0] if dx else 1 - f[:, 0])
                            * (f[:, 1] if dy else 1 - f[:, 1])
                            * (f[:, 2] if dz else 1 - f[:, 2])
                        )
                        acc += w * _lattice(
                            i0[:, 0] + dx, i0[:, 1] + dy, i0[:, 2] + dz, seed + 7919 * octave
                        )
            amp = 0.6**octave
            total += amp * (2 * acc - 1)
            weight += amp
    return total / weight


def render_points(
    points: np.ndarray,
    colours: np.ndarray,
    k: np.ndarray,
    rot: np.ndarray,
    trans: np.ndarray,
    width: int,
    height: int,
    *,
    splat: int = 2,
    background: tuple[int, int, int] = (14, 14, 16),
) -> np.ndarray:
    """An (height, width, 3) uint8 frame of the (N, 3) ``points`` with (N, 3) uint8 ``colours``."""
    cam = np.asarray(points, np.float64) @ np.asarray(rot).T + np.asarray(trans)
    front = cam[:, 2] > 1e-3
    cam, col = cam[front], np.asarray(colours, np.uint8)[front]
    u = k[0, 0] * cam[:, 0] / cam[:, 2] + k[0, 2]
    v = k[1, 1] * cam[:, 1] / cam[:, 2] + k[1, 2]
    order = np.argsort(-cam[:, 2])  # far first: nearer samples overwrite
    u, v, col = u[order], v[order], col[order]
    img = np.empty((height, width, 3), np.uint8)
    img[:] = background
    offsets = np.arange(splat) - splat // 2
    du, dv = np.meshgrid(offsets, offsets)
    # point-major order (each sample's square together, far samples first): the last write wins
    x = (np.floor(u).astype(np.int64)[:, None] + du.ravel()[None, :]).ravel()
    y = (np.floor(v).astype(np.int64)[:, None] + dv.ravel()[None, :]).ravel()
    c = np.repeat(col, splat * splat, axis=0)
    ok = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    img[y[ok], x[ok]] = c[ok]
    return img
