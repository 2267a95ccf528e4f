"""Fit (or reuse) the text representation that narration is matched with, on the subtitle corpus."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from instructvid.io.subtitles import TimedWord
from instructvid.steps.narration.corpus import corpus_sentences
from instructvid.steps.narration.matching import DEFAULT_WINDOW
from instructvid.text.embed import ENCODERS
from instructvid.text.encoder import TextEncoder
from instructvid.text.minilm import MiniLMEncoder
from instructvid.text.tfidf import TfidfEncoder
from instructvid.text.wordvec import WordVectorEncoder
from instructvid.types import PathLike

__all__ = ["fit_encoder"]


#: Words per "sentence" when the subtitle corpus is cut for TF-IDF documents / FastText.
_CHUNK_WORDS = 20


def fit_encoder(
    text: str,
    corpus: Mapping[str, Sequence[TimedWord]],
    folder: PathLike,
    *,
    window: int = DEFAULT_WINDOW,
    text_model: PathLike | None = None,
    random_state: int = 0,
) -> Path:
    """Fit (or reuse) representation ``text`` on the subtitle corpus and save it to ``folder``.

    ``tfidf``: IDF over ``window``-word chunks of every video's words. ``wordvec``: FastText on
    20-word chunks. ``minilm``: nothing to fit. ``learned``: ``text_model`` (a folder written by
    ``train-text``) is used as it is and returned instead of ``folder``.

    Returns:
        the folder to :func:`~instructvid.text.embed.load_encoder` from.
    """
    if text not in ENCODERS:
        raise ValueError(f"unknown text representation {text!r}; expected one of {ENCODERS}")
    if text == "learned":
        if text_model is None:
            raise ValueError(
                "--text learned needs --text-model MODEL (train one with "
                "`instructvid steps train-text`)"
            )
        model = Path(text_model)
        if not (model / "encoder.json").is_file():
            raise FileNotFoundError(f"{model}: not a trained text model (no encoder.json)")
        return model
    folder = Path(folder)
    if (folder / "encoder.json").is_file():
        return folder
    encoder: TextEncoder
    if text == "tfidf":
        docs = corpus_sentences(corpus, window)
        if not docs:
            raise ValueError("no subtitle words to fit TF-IDF on")
        encoder = TfidfEncoder().fit(docs)
    elif text == "wordvec":
        sentences = corpus_sentences(corpus, _CHUNK_WORDS)
        encoder = WordVectorEncoder(random_state=random_state).fit(sentences)
    else:
        encoder = MiniLMEncoder()
    return encoder.save(folder)
