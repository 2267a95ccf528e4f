"""The cumulative-sum store: per-video centred feature sums of many videos in one memmap.

Training videos are given as per-video feature files ``<vid>.npy`` (float (T, D), one row per
second). They are read once, one video at a time, into ``store/cumsum.npy`` (float32 of shape
``(Σ (T_v + 1), D)``): rows ``o_v .. o_v + T_v`` hold ``C_v[t] = Σ_{u<t} (x_u − x̄_v)``, so the
mean of a clip ``[s, e)`` is ``(C_v[e] − C_v[s]) / (e − s) + x̄_v`` — two rows read per clip,
whatever its length. The per-video mean ``x̄_v`` is left out of training batches: it adds the
same vector to every clip of a sequence, which changes neither ``F`` (a difference) nor ``W`` (a
softmax of sums, shift-invariant), so ``G``, the loss and every gradient are unchanged, and
centring keeps the float32 sums small and precise. The store is memory-mapped (any number of
videos) and reused while the feature files (path, shape, size, mtime) are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from instructvid.io.atomic import atomic_open, atomic_write_json
from instructvid.io.crosstask import open_features
from instructvid.types import PathLike, ProgressCallback

__all__ = ["FeatureStore"]


@njit(nogil=True, cache=True, boundscheck=False)
def _gather_means(csum, rows_s, rows_e, inv_len, out):  # pragma: no cover - compiled
    """out[i] = (csum[rows_e[i]] - csum[rows_s[i]]) * inv_len[i] for every clip i."""
    d = csum.shape[1]
    for i in range(rows_s.shape[0]):
        a = rows_s[i]
        b = rows_e[i]
        f = inv_len[i]
        for j in range(d):
            out[i, j] = (csum[b, j] - csum[a, j]) * f


@dataclass
class FeatureStore:
    """Per-video centred cumulative sums of many videos in one memory-mapped float32 array.

    Attributes:
        root: the store's folder (``cumsum.npy``, ``index.json``).
        video_ids: the videos, in store order.
        lengths: (n,) int64 seconds per video.
        offsets: (n,) int64 row of each video's ``C[0] = 0`` in ``cumsum``.
        cumsum: float32 memmap of shape ``(Σ (T + 1), D)``.
    """

    root: Path
    video_ids: list[str]
    lengths: np.ndarray
    offsets: np.ndarray
    cumsum: np.ndarray
    fingerprint: str = ""

    @property
    def dim(self) -> int:
        return int(self.cumsum.shape[1])

    @classmethod
    def build(
        cls,
        root: PathLike,
        features: Mapping[str, PathLike],
        *,
        progress: ProgressCallback | None = None,
    ) -> FeatureStore:
        """Open the store in ``root`` if it was built from the same files, else (re)build it.

        Args:
            root: folder of the store.
            features: ``{video_id: path of its (T, D) .npy}``.
            progress: ``progress(done, total)`` callback over videos.

        Raises:
            CrossTaskFormatError: a feature file is missing, unreadable or not (T, D) float.
            ValueError: videos with different feature dimensions.
        """
        root = Path(root)
        items = sorted((str(v), Path(p)) for v, p in features.items())
        if not items:
            raise ValueError("no training video")
        shapes = []
        for _vid, path in items:
            feats = open_features(path)
            shapes.append(feats.shape)
            if feats.shape[1] != shapes[0][1]:
                raise ValueError(
                    f"{path}: feature dimension {feats.shape[1]} differs from "
                    f"{shapes[0][1]} of {items[0][1]}"
                )
        fp = hashlib.sha256(
            json.dumps(
                [
                    [v, str(p), list(s), p.stat().st_size, p.stat().st_mtime_ns]
                    for (v, p), s in zip(items, shapes, strict=True)
                ]
            ).encode()
        ).hexdigest()
        index_path = root / "index.json"
        if index_path.is_file():
            try:
                store = cls.open(root)
                if store.fingerprint == fp:
                    return store
            except (OSError, ValueError, KeyError):
                pass
        lengths = np.array([s[0] for s in shapes], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)
        n_rows = int((lengths + 1).sum())
        dim = int(shapes[0][1])
        with atomic_open(root / "cumsum.npy", "wb") as handle:
            np.lib.format.write_array_header_2_0(
                handle, {"descr": "<f4", "fortran_order": False, "shape": (n_rows, dim)}
            )
            for k, (_vid, path) in enumerate(items):
                x = np.asarray(open_features(path), dtype=np.float64)
                c = np.zeros((x.shape[0] + 1, dim), dtype=np.float64)
                np.cumsum(x - x.mean(axis=0), axis=0, out=c[1:])
                handle.write(c.astype("<f4").tobytes())
                if progress is not None:
                    progress(k + 1, len(items))
        atomic_write_json(
            index_path,
            {
                "video_ids": [v for v, _ in items],
                "lengths": lengths.tolist(),
                "offsets": offsets.tolist(),
                "dim": dim,
                "fingerprint": fp,
            },
            indent=None,
        )
        return cls.open(root)

    @classmethod
    def open(cls, root: PathLike) -> FeatureStore:
        """Open an existing store (memory-mapped)."""
        root = Path(root)
        index = json.loads((root / "index.json").read_text())
        csum = np.load(root / "cumsum.npy", mmap_mode="r")
        return cls(
            root=root,
            video_ids=list(index["video_ids"]),
            lengths=np.asarray(index["lengths"], dtype=np.int64),
            offsets=np.asarray(index["offsets"], dtype=np.int64),
            cumsum=csum,
            fingerprint=str(index["fingerprint"]),
        )

    def batch_rows(
        self, videos: np.ndarray, starts: np.ndarray, clip_len: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row indices ``(rows_s, rows_e)`` (B·M,) of every clip and its ``1 / L`` (float32)."""
        m = starts.shape[1]
        rows_s = (self.offsets[videos][:, None] + starts).reshape(-1)
        rows_e = rows_s + np.repeat(clip_len, m)
        inv = np.repeat((1.0 / clip_len).astype(np.float32), m)
        return rows_s, rows_e, inv

    def clip_means(
        self,
        videos: np.ndarray,
        starts: np.ndarray,
        clip_len: np.ndarray,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Centred clip means of a batch: (B, M, D) float32.

        Args:
            videos: (B,) store indices.
            starts: (B, M) start seconds.
            clip_len: (B,) clip lengths in seconds.
            out: optional float32 buffer with at least B·M·D elements (reused between batches).
        """
        b, m = starts.shape
        rows_s, rows_e, inv = self.batch_rows(videos, starts, clip_len)
        if out is None:
            out = np.empty(b * m * self.dim, dtype=np.float32)
        buf = out[: b * m * self.dim].reshape(b * m, self.dim)
        _gather_means(self.cumsum, rows_s, rows_e, inv, buf)
        return buf.reshape(b, m, self.dim)
