"""The ``tfidf`` text representation: TF-IDF vectors of Snowball-stemmed tokens (scikit-learn).

IDF fitted on ``w``-word chunks of the subtitle corpus; raw counts × smoothed IDF,
L2-normalised; window similarities computed sparsely (:meth:`TfidfEncoder.window_similarity`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from instructvid.io.atomic import atomic_write_json
from instructvid.text.components import tokenize
from instructvid.text.encoder import TextEncoder, window_bounds

__all__ = ["TfidfEncoder"]


def _stemmed_tokens(text: str) -> list[str]:
    return tokenize(text, stem=True)


class TfidfEncoder(TextEncoder):
    """TF-IDF vectors (scikit-learn), tokens stemmed as the step components.

    Learned state: ``vocabulary_`` (token → column) and ``idf_`` (V,), set by :meth:`fit`.
    """

    name = "tfidf"

    def __init__(self) -> None:
        self.vocabulary_: dict[str, int] | None = None
        self.idf_: np.ndarray | None = None

    def fit(self, documents: Iterable[str]) -> TfidfEncoder:
        """Fit the vocabulary and the IDF on ``documents`` (e.g. w-word subtitle chunks)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            tokenizer=_stemmed_tokens, lowercase=False, token_pattern=None, dtype=np.float32
        )
        vectorizer.fit(list(documents))
        self.vocabulary_ = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        self.idf_ = np.asarray(vectorizer.idf_, dtype=np.float32)
        return self

    def _check(self) -> tuple[dict[str, int], np.ndarray]:
        if self.vocabulary_ is None or self.idf_ is None:
            raise RuntimeError("TfidfEncoder is not fitted: call fit(documents) first")
        return self.vocabulary_, self.idf_

    def _counts(self, token_lists: Sequence[Sequence[str]]) -> sp.csr_matrix:
        vocab, idf = self._check()
        rows, cols = [], []
        for i, tokens in enumerate(token_lists):
            for tok in tokens:
                j = vocab.get(tok)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        data = np.ones(len(rows), dtype=np.float32)
        m = sp.csr_matrix((data, (rows, cols)), shape=(len(token_lists), len(idf)))
        m.sum_duplicates()
        return m

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        from sklearn.preprocessing import normalize

        _, idf = self._check()
        return normalize(sp.csr_matrix(counts.multiply(idf[None, :])), norm="l2", copy=False)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._tfidf(self._counts([_stemmed_tokens(t) for t in texts])).toarray()

    def window_similarity(
        self, words: Sequence[str], queries: Sequence[str], *, window: int, stride: int = 1
    ) -> np.ndarray:
        # Window counts = a banded 0/1 matrix times the per-word counts (sparse throughout);
        # equal to embedding each window's joined text (tokens never span a space).
        if not len(words):
            return np.zeros((0, len(queries)))
        lo, hi = window_bounds(len(words), window, stride)
        per_word = self._counts([_stemmed_tokens(w) for w in words])
        lengths = hi - lo
        band = sp.csr_matrix(
            (
                np.ones(int(lengths.sum()), dtype=np.float32),
                np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)]),
                np.concatenate([[0], np.cumsum(lengths)]),
            ),
            shape=(len(lo), len(words)),
        )
        u = self._tfidf(band @ per_word)
        v = self._tfidf(self._counts([_stemmed_tokens(q) for q in queries]))
        return np.asarray((u @ v.T).toarray(), dtype=np.float64)

    def _save_state(self, folder: Path) -> None:
        vocab, idf = self._check()
        tokens = sorted(vocab, key=vocab.__getitem__)
        atomic_write_json(folder / "tfidf.json", {"tokens": tokens, "idf": idf.tolist()})

    @classmethod
    def _load(cls, folder: Path, config: dict[str, Any]) -> TfidfEncoder:
        state = json.loads((folder / "tfidf.json").read_text(encoding="utf-8"))
        enc = cls()
        enc.vocabulary_ = {t: i for i, t in enumerate(state["tokens"])}
        enc.idf_ = np.asarray(state["idf"], dtype=np.float32)
        return enc
