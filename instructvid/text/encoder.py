"""The common interface of the text representations: :class:`TextEncoder` (texts → unit
vectors, window similarities, saving) and the helpers its implementations share.

A representation maps texts to an ``(N, D)`` float32 array of **unit** rows (zero rows for texts
with no known token). The representations themselves live in :mod:`instructvid.text.tfidf`,
:mod:`~instructvid.text.wordvec`, :mod:`~instructvid.text.minilm` and
:mod:`~instructvid.text.learned`; :mod:`instructvid.text.embed` names them and loads a saved
one whatever its representation. A representation that holds another (``learned`` holds its
``wordvec``) loads it with :meth:`TextEncoder.load` of that class, so no representation needs
the registry.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
from scipy.ndimage import maximum_filter1d

from instructvid.io.atomic import atomic_write_json
from instructvid.types import PathLike

__all__ = [
    "CONFIG_FILE",
    "TextEncoder",
    "read_config",
    "sliding_max",
    "unit_rows",
    "window_bounds",
]

E = TypeVar("E", bound="TextEncoder")


#: The file of a saved encoder that names its representation; written last.
CONFIG_FILE = "encoder.json"


def read_config(folder: PathLike) -> tuple[Path, dict[str, Any]]:
    """``(path, content)`` of the ``encoder.json`` of a folder written by :meth:`TextEncoder.save`.

    Raises:
        FileNotFoundError: ``folder`` holds no saved encoder.
    """
    folder = Path(folder)
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder}: not a saved text encoder (no {CONFIG_FILE})")
    return config_path, json.loads(config_path.read_text(encoding="utf-8"))


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero); float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def window_bounds(n_words: int, window: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Word ranges of the sliding windows: ``(lo, hi)`` int arrays, window ``i`` = words
    ``lo[i]:hi[i]``, centred on word ``i·stride``.

    Args:
        n_words: L, the number of words (>= 0).
        window: w >= 1 words per window.
        stride: s >= 1 words between window centres.

    Returns:
        two int64 arrays of length ``ceil(L / s)``.
    """
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got {window}, {stride}")
    centres = np.arange(0, n_words, stride, dtype=np.int64)
    lo = np.clip(centres - window // 2, 0, n_words)
    hi = np.clip(centres - window // 2 + window, 0, n_words)
    return lo, hi


def sliding_max(x: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Max over each window (rows = words; rows that are all ``-inf`` are ignored)."""
    if x.shape[0] == 0:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    pooled = maximum_filter1d(x, size=window, axis=0, mode="constant", cval=-np.inf)
    pooled = pooled[::stride]
    pooled[~np.isfinite(pooled)] = 0.0
    return pooled


class TextEncoder(ABC):
    """Maps texts to unit vectors; subclasses implement :meth:`embed`."""

    #: the representation's name (:data:`~instructvid.text.embed.ENCODERS`).
    name: ClassVar[str]

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(N, D) float32 unit rows for N texts (zero rows for texts with no known token)."""

    def window_similarity(
        self, words: Sequence[str], queries: Sequence[str], *, window: int, stride: int = 1
    ) -> np.ndarray:
        """Cosine similarity of every sliding window of ``words`` to every query.

        Args:
            words: the L subtitle words, in time order.
            queries: the K step texts.
            window: w, words per window.
            stride: words between window centres.

        Returns:
            (ceil(L / stride), K) float64; row i is the window centred on word ``i·stride``.
        """
        lo, hi = window_bounds(len(words), window, stride)
        texts = [" ".join(words[a:b]) for a, b in zip(lo, hi, strict=True)]
        unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
        u = self.embed(list(unique)) if len(unique) else np.zeros((0, 1), np.float32)
        v = self.embed(list(queries))
        if not len(texts):
            return np.zeros((0, len(queries)))
        return (u @ v.T).astype(np.float64)[inverse.reshape(-1)]

    def save(self, folder: PathLike) -> Path:
        """Write the encoder to ``folder`` (``encoder.json`` + state files); returns it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._save_state(folder)
        atomic_write_json(folder / CONFIG_FILE, {"name": self.name, **self._config()})
        return folder

    @classmethod
    def load(cls: type[E], folder: PathLike) -> E:
        """Load a saved encoder of this representation (``folder`` written by :meth:`save`).

        Raises:
            FileNotFoundError: ``folder`` holds no saved encoder.
            ValueError: ``folder`` holds another representation.
        """
        config_path, config = read_config(folder)
        if config.get("name") != cls.name:
            raise ValueError(
                f"{config_path}: a saved {config.get('name')!r} encoder, expected {cls.name!r}"
            )
        return cls._load(Path(folder), config)

    @classmethod
    def _load(cls: type[E], folder: Path, config: dict[str, Any]) -> E:
        """Rebuild the encoder from ``folder`` and its ``encoder.json`` content ``config``."""
        raise NotImplementedError(f"{cls.__name__} cannot be loaded")

    def _config(self) -> dict[str, Any]:
        return {}

    def _save_state(self, folder: Path) -> None:  # noqa: B027 - optional hook
        pass
