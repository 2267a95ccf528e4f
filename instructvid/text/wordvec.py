"""The ``wordvec`` text representation: gensim ``FastText`` word vectors, max-pooled over a text.

Skip-gram, d = 100 as the thesis, trained on the subtitle corpus; tokens unstemmed
(:func:`raw_tokens`: FastText has its own sub-word n-grams); a text's vector is every
coordinate's maximum over its words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.text.components import tokenize
from instructvid.text.encoder import TextEncoder, sliding_max, unit_rows

__all__ = ["WordVectorEncoder", "raw_tokens"]


def raw_tokens(text: str) -> list[str]:
    """Unstemmed tokens (:func:`~instructvid.text.components.tokenize`), as the word vectors see them."""
    return tokenize(text, stem=False)


def _need_gensim() -> Any:
    try:
        from gensim.models import FastText
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("word vectors need gensim: pip install 'instructvid[text]'") from exc
    return FastText


class WordVectorEncoder(TextEncoder):
    """Max-pooled FastText word vectors (thesis: fastText, d = 100).

    Args:
        dim: vector size d.
        epochs: training passes over the corpus.
        min_count: words rarer than this get no own vector (their n-grams still count).
        buckets: n-gram hash buckets (memory: ``buckets · dim · 4`` bytes).
        random_state: seed (training uses one worker thread, so it is reproducible).

    Learned state: ``vectors_`` (gensim ``FastTextKeyedVectors``), set by :meth:`fit`.
    """

    name = "wordvec"

    def __init__(
        self,
        *,
        dim: int = 100,
        epochs: int = 10,
        min_count: int = 2,
        buckets: int = 100_000,
        random_state: int = 0,
    ) -> None:
        self.dim = dim
        self.epochs = epochs
        self.min_count = min_count
        self.buckets = buckets
        self.random_state = random_state
        self.vectors_: Any = None

    def fit(self, sentences: Iterable[str]) -> WordVectorEncoder:
        """Train FastText (skip-gram) on ``sentences`` (texts; tokenised unstemmed)."""
        fasttext = _need_gensim()
        corpus = [toks for toks in (raw_tokens(s) for s in sentences) if toks]
        if not corpus:
            raise ValueError("no words to train word vectors on")
        model = fasttext(
            vector_size=self.dim,
            window=5,
            min_count=min(self.min_count, max(1, len(corpus))),
            sg=1,
            bucket=self.buckets,
            workers=1,
            seed=self.random_state,
        )
        model.build_vocab(corpus_iterable=corpus)
        if not model.wv.key_to_index:  # every word rarer than min_count
            model = fasttext(
                vector_size=self.dim, window=5, min_count=1, sg=1, bucket=self.buckets,
                workers=1, seed=self.random_state,
            )  # fmt: skip
            model.build_vocab(corpus_iterable=corpus)
        model.train(corpus_iterable=corpus, total_examples=len(corpus), epochs=self.epochs)
        self.vectors_ = model.wv
        return self

    def word_matrix(self, tokens: Sequence[Sequence[str]]) -> np.ndarray:
        """(L, d) vectors of L words, each the elementwise max over its tokens; ``-inf`` rows
        for words without a token or without any known n-gram."""
        if self.vectors_ is None:
            raise RuntimeError("WordVectorEncoder is not fitted: call fit(sentences) first")
        out = np.full((len(tokens), self.vectors_.vector_size), -np.inf, dtype=np.float32)
        cache: dict[str, np.ndarray | None] = {}
        for i, toks in enumerate(tokens):
            for tok in toks:
                if tok not in cache:
                    vec = self.vectors_.get_vector(tok)
                    cache[tok] = vec if np.any(vec) else None
                vec = cache[tok]
                if vec is not None:
                    np.maximum(out[i], vec, out=out[i])
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self.word_matrix([[t] for t in raw_tokens(text)]) for text in texts]
        pooled = np.stack(
            [r.max(axis=0) if len(r) else np.full(self.dim, -np.inf, np.float32) for r in rows]
        ) if rows else np.zeros((0, self.dim), np.float32)  # fmt: skip
        pooled[~np.isfinite(pooled)] = 0.0
        return unit_rows(pooled)

    def window_similarity(
        self, words: Sequence[str], queries: Sequence[str], *, window: int, stride: int = 1
    ) -> np.ndarray:
        x = self.word_matrix([raw_tokens(w) for w in words])
        u = unit_rows(sliding_max(x, window, stride))
        return (u @ self.embed(queries).T).astype(np.float64)

    def _config(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "epochs": self.epochs,
            "min_count": self.min_count,
            "buckets": self.buckets,
            "random_state": self.random_state,
        }

    def _save_state(self, folder: Path) -> None:
        if self.vectors_ is None:
            raise RuntimeError("WordVectorEncoder is not fitted")
        # gensim writes several files (<name>, <name>.vectors_ngrams.npy, ...); not atomic as a
        # set, but encoder.json is written last and marks a complete folder.
        self.vectors_.save(str(folder / "wordvec.kv"))

    @classmethod
    def _load(cls, folder: Path, config: dict[str, Any]) -> WordVectorEncoder:
        _need_gensim()
        from gensim.models.fasttext import FastTextKeyedVectors

        enc = cls(
            **{k: config[k] for k in ("dim", "epochs", "min_count", "buckets", "random_state")}
        )
        enc.vectors_ = FastTextKeyedVectors.load(str(folder / "wordvec.kv"))
        return enc
