"""The training videos' features: FeatureStore's bounded cache and partial reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from instructvid.steps.training import data as training_data
from instructvid.steps.training.data import FeatureStore


class _CountingFile:
    """A mapped feature file that records how many rows each read materialises."""

    def __init__(self, array: np.ndarray, reads: list[int]) -> None:
        self._array = array
        self._reads = reads
        self.shape = array.shape
        self.dtype = array.dtype

    def __getitem__(self, index):
        out = self._array[index]
        self._reads.append(len(out))
        return out

    def __array__(self, dtype=None, copy=None):
        self._reads.append(len(self._array))
        return np.asarray(self._array, dtype=dtype)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    """Videos of 10, 30, 20 and 5 seconds (d = 4, float64 on disk: the store casts)."""
    rng = np.random.default_rng(0)
    paths = []
    for i, n in enumerate((10, 30, 20, 5)):
        paths.append(tmp_path / f"v{i}.npy")
        np.save(paths[-1], rng.standard_normal((n, 4)))
    return paths


def test_rows_read_only_the_needed_rows_of_a_video_the_cache_cannot_hold(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    opened = training_data.open_features
    monkeypatch.setattr(
        training_data, "open_features", lambda path: _CountingFile(np.asarray(opened(path)), reads)
    )
    budget = 4 * 4 * 25  # float32 bytes of 25 seconds: v0 (10 s) fits, then v1 (30 s) does not
    store = FeatureStore(files, cache_bytes=budget)
    wanted = np.array([3, 0, 4])
    calls = [(0, wanted), (1, np.array([29, 4])), (2, wanted), (1, np.array([1])), (3, wanted)]
    for i, rows in calls:
        reads.clear()
        got = store.rows(i, rows)
        expected = np.load(files[i])[rows].astype(np.float32)
        assert got.dtype == np.float32 and np.array_equal(got, expected)
        assert store._used <= budget
        assert sum(a.nbytes for a in store._cache.values()) == store._used
        if i in store._cache:
            assert np.array_equal(store.full(i), np.load(files[i]).astype(np.float32))
        else:  # not cached: only the requested seconds were read from the file
            assert reads == [len(rows)], (i, reads)
    # v0 (10 s) then v3 (5 s) fit; v1 (30 s) and v2 (20 s, 10 + 20 > 25) do not.
    assert sorted(store._cache) == [0, 3]
    assert store._used == 4 * 4 * 15


def test_rows_and_full_agree_with_the_file_whatever_the_cache(files: list[Path]) -> None:
    for budget in (0, 4 * 4 * 12, 1 << 20):
        store = FeatureStore(files, cache_bytes=budget)
        for _ in range(2):  # second pass: from the cache where it holds the video
            for i, path in enumerate(files):
                x = np.load(path).astype(np.float32)
                rows = np.arange(len(x))[::-3]
                assert np.array_equal(store.rows(i, rows), x[rows])
                assert np.array_equal(store.full(i), x)
                assert store._used <= budget
