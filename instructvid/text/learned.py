"""The ``learned`` text representation (thesis app. A.1.1): a learned aggregation of word
vectors and its training with the triplet margin loss.

Over the ``wordvec`` vectors: 1-D convolution with kernel 1 and d = 300 filters (a per-word
linear map), global max-pooling over the words, a linear map d → d; trained with the triplet
margin loss (h = 0.1) on sentences grouped by paragraph (:func:`train_aggregation`, the text
read by :func:`~instructvid.text.paragraphs.read_paragraphs`). A sentence's positives are the
other sentences of its paragraph, its negatives the sentences of the article's other paragraphs
(paragraphs with one sentence only serve as negatives; articles with one paragraph are unused).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import maximum_filter1d

from instructvid.io.atomic import atomic_open
from instructvid.text.encoder import TextEncoder, sliding_max, unit_rows
from instructvid.text.wordvec import WordVectorEncoder, raw_tokens
from instructvid.types import ProgressCallback

__all__ = ["LearnedEncoder", "TrainHistory", "train_aggregation", "triplet_loss"]


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
    :func:`train_aggregation` or :func:`~instructvid.text.embed.load_encoder`.
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
        x, mask = self._batch([raw_tokens(t) for t in texts])
        with torch.no_grad():
            out = self.module_(x, mask).numpy()
        out[~mask.numpy().any(axis=1)] = 0.0
        return unit_rows(out)

    def window_similarity(
        self, words: Sequence[str], queries: Sequence[str], *, window: int, stride: int = 1
    ) -> np.ndarray:
        torch = _torch()
        x = self.word_vectors_.word_matrix([raw_tokens(w) for w in words])
        ok = np.isfinite(x).all(axis=1)
        with torch.no_grad():
            h = self.module_.word_features(torch.from_numpy(np.where(ok[:, None], x, 0.0))[None])
            h = h[0].numpy()
        h[~ok] = -np.inf
        pooled = sliding_max(h, window, stride)
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
        words = WordVectorEncoder.load(folder / "wordvec")
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
    progress: ProgressCallback | None = None,
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
    progress: ProgressCallback | None,
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
        x, mask = encoder._batch([raw_tokens(s) for s in sentences])
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
