"""Voxels of a scene's common 3D model (thesis §5.4): a box cut into a grid, the top-N_v cells.

The box is the axis-aligned bounding box of the scene's common (aligned, merged) model, cut into
``grid`` equal parts along each axis (20 × 20 × 20 = 8000 cells in the thesis). A cell is a flat
index ``(i * g + j) * g + k`` for the integer coordinates (i, j, k) along x, y, z. Only the
``n_voxels`` cells holding most training points are kept (N_v = 500): the classes of the
grounding model, numbered 0 … N_v − 1 in the order of :attr:`VoxelGrid.cells`.

Units are those of the model (the reference model's frame; metric once scaled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VoxelGrid", "bounding_box", "top_cells"]


def bounding_box(points: np.ndarray, *, margin: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """(lo (3,), hi (3,)) of the (N, 3) points, widened by ``margin`` × the extent per axis (so that
    the extreme points fall inside) and by at least 1e-9 on a flat axis."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    p = p[np.isfinite(p).all(axis=1)]
    if not len(p):
        raise ValueError("cannot build voxels around an empty point set")
    lo, hi = p.min(axis=0), p.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-9)
    return lo - pad, hi + pad


def top_cells(cell_ids: np.ndarray, n_voxels: int) -> np.ndarray:
    """The (at most) ``n_voxels`` cells holding most of ``cell_ids`` (ids < 0 ignored).

    Ties are broken by the smaller cell id, so the result is deterministic. Returns the kept cell
    ids sorted by decreasing count (then increasing id), int64.
    """
    ids = np.asarray(cell_ids, np.int64).ravel()
    ids = ids[ids >= 0]
    if n_voxels < 1:
        raise ValueError(f"n_voxels must be >= 1, got {n_voxels}")
    if not len(ids):
        return np.zeros(0, np.int64)
    cells, counts = np.unique(ids, return_counts=True)
    order = np.lexsort((cells, -counts))
    return cells[order[:n_voxels]]


@dataclass(frozen=True, eq=False)
class VoxelGrid:
    """A ``grid``³ cutting of the box [lo, hi] and the kept cells (the classes).

    Attributes:
        lo: (3,) lower corner of the box.
        hi: (3,) upper corner of the box.
        grid: cells per axis.
        cells: (N_v,) int64 flat cell ids of the kept voxels; class c is ``cells[c]``.
    """

    lo: np.ndarray
    hi: np.ndarray
    grid: int
    cells: np.ndarray

    def __post_init__(self) -> None:
        lo = np.asarray(self.lo, np.float64).reshape(3)
        hi = np.asarray(self.hi, np.float64).reshape(3)
        if self.grid < 1 or not np.all(hi > lo):
            raise ValueError(
                f"a voxel grid needs grid >= 1 and hi > lo, got {self.grid}, {lo}, {hi}"
            )
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "cells", np.asarray(self.cells, np.int64).ravel())

    @staticmethod
    def fit(
        points: np.ndarray, training_points: np.ndarray, *, grid: int = 20, n_voxels: int = 500
    ) -> VoxelGrid:
        """The grid over the bounding box of ``points`` (N, 3) (the common model), keeping the
        ``n_voxels`` cells holding most of ``training_points`` (M, 3)."""
        lo, hi = bounding_box(points)
        empty = VoxelGrid(lo, hi, grid, np.zeros(0, np.int64))
        return VoxelGrid(lo, hi, grid, top_cells(empty.cell_of(training_points), n_voxels))

    @property
    def size(self) -> np.ndarray:
        """(3,) edge lengths of one cell."""
        return (self.hi - self.lo) / self.grid

    @property
    def n_voxels(self) -> int:
        return len(self.cells)

    def cell_of(self, points: np.ndarray) -> np.ndarray:
        """Flat cell id (N,) int64 of each (N, 3) point; −1 outside the box or non-finite."""
        p = np.asarray(points, np.float64).reshape(-1, 3)
        with np.errstate(invalid="ignore"):
            ijk = np.floor((p - self.lo) / self.size)
        ok = np.isfinite(ijk).all(axis=1) & (ijk >= 0).all(axis=1) & (ijk < self.grid).all(axis=1)
        ijk = np.where(ok[:, None], ijk, 0).astype(np.int64)
        flat = (ijk[:, 0] * self.grid + ijk[:, 1]) * self.grid + ijk[:, 2]
        return np.where(ok, flat, -1)

    def voxel_of(self, points: np.ndarray) -> np.ndarray:
        """Class (N,) int64 of each point: its index in :attr:`cells`, −1 when its cell is not kept."""
        flat = self.cell_of(points)
        lookup = {int(c): i for i, c in enumerate(self.cells)}
        return np.array([lookup.get(int(f), -1) for f in flat], np.int64)

    def cell_centres(self, cells: np.ndarray) -> np.ndarray:
        """(N, 3) centres of the flat cell ids (N,)."""
        c = np.asarray(cells, np.int64).ravel()
        g = self.grid
        ijk = np.stack([c // (g * g), (c // g) % g, c % g], axis=1).astype(np.float64)
        return self.lo + (ijk + 0.5) * self.size

    def centres(self) -> np.ndarray:
        """(N_v, 3) centres of the kept voxels, in class order."""
        return self.cell_centres(self.cells)

    def to_json(self) -> dict:
        return {
            "lo": self.lo.tolist(),
            "hi": self.hi.tolist(),
            "grid": self.grid,
            "cells": self.cells.tolist(),
        }

    @staticmethod
    def from_json(d: dict) -> VoxelGrid:
        return VoxelGrid(
            np.asarray(d["lo"], float),
            np.asarray(d["hi"], float),
            int(d["grid"]),
            np.asarray(d["cells"], np.int64),
        )
