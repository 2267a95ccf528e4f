"""CrossTask per-video features: ``<vid>.npy``, float (T, D), one row per second.

Features are opened memory-mapped and never loaded whole; the NaN/inf scan reads them in
chunks of rows (bounded memory).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_save_npy
from instructvid.io.crosstask.errors import CrossTaskFormatError
from instructvid.types import PathLike

__all__ = ["check_features", "open_features", "write_features"]


#: Rows checked per chunk when scanning a feature file for NaN/inf (bounded memory).
_SCAN_ROWS = 4096


def open_features(path: PathLike, *, check_finite: bool = False) -> np.ndarray:
    """Open a per-video feature file memory-mapped (read-only), without loading it.

    Args:
        path: ``<vid>.npy`` holding a (T, D) float array, one row per second.
        check_finite: also scan the file (in chunks, bounded memory) for NaN/inf rows.

    Returns:
        a read-only ``np.memmap`` of shape (T, D).

    Raises:
        CrossTaskFormatError: missing, empty or unreadable file, wrong number of dimensions,
            zero rows, or (with ``check_finite``) a non-finite row.
    """
    path = Path(path)
    if not path.is_file():
        raise CrossTaskFormatError(path, "feature file not found (expected a (T, D) .npy array)")
    if path.stat().st_size == 0:
        raise CrossTaskFormatError(path, "feature file is empty (expected a (T, D) .npy array)")
    try:
        feats = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CrossTaskFormatError(path, f"not a readable .npy array ({exc})") from None
    if feats.ndim != 2:
        raise CrossTaskFormatError(
            path, f"expected a 2-D (T, D) feature array, found shape {tuple(feats.shape)}"
        )
    if feats.shape[0] == 0 or feats.shape[1] == 0:
        raise CrossTaskFormatError(
            path, f"feature array is empty: shape {tuple(feats.shape)}, expected (T>0, D>0)"
        )
    if not np.issubdtype(feats.dtype, np.floating):
        raise CrossTaskFormatError(path, f"expected float features, found dtype {feats.dtype}")
    if check_finite:
        check_features(feats, source=path)
    return feats


def check_features(features: np.ndarray, *, source: PathLike = "<features>") -> None:
    """Raise :class:`CrossTaskFormatError` naming the first row holding NaN or inf.

    Scans in chunks of rows so that a memory-mapped (T, D) array is never loaded whole.
    """
    for lo in range(0, features.shape[0], _SCAN_ROWS):
        chunk = np.asarray(features[lo : lo + _SCAN_ROWS])
        bad = ~np.isfinite(chunk).all(axis=1)
        if bad.any():
            row = lo + int(np.flatnonzero(bad)[0])
            raise CrossTaskFormatError(
                source,
                f"feature row {row} (second {row}) holds NaN or inf; expected finite values",
            )


def write_features(path: PathLike, features: np.ndarray) -> Path:
    """Save a (T, D) float32 feature array as ``.npy`` atomically; returns ``path``."""
    feats = np.asarray(features, dtype=np.float32)
    if feats.ndim != 2:
        raise ValueError(f"features must be (T, D), got shape {feats.shape}")
    return atomic_save_npy(path, feats)
