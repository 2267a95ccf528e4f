"""Ordered matching of a task's step texts to one video's narration: where is each step said?

For a video of task τ (K ordered step texts) with subtitles (L timed words):

1. **Windows**: position ``p`` is the window of ``w`` words centred on word ``p``
   (:func:`~instructvid.text.embed.window_bounds`; positions every ``stride`` words).
2. **Similarity**: ``S[p, k]`` = cosine of window p and step text k under a text representation
   (:mod:`instructvid.text.embed`: ``tfidf``, ``wordvec``, ``minilm``, ``learned``).
3. **Ordered matching**: the at-least-once ordered DP of :mod:`instructvid.align.dp` over the
   positions, maximising ``Σ (S[p, k] − m_k)`` where ``m_k`` is the mean similarity of step k over
   the video's positions: every step gets one contiguous run of positions, runs in task order,
   positions outside every run are background (score 0). Centring makes a run cover where its step
   is more similar than usual; without it every position would be taken by some step. Ordering
   keeps spurious, out-of-order mentions out ("imposing the ordering constraints … helps to avoid
   spurious mentions").
4. **Chosen position**: the position of the run with the highest similarity; its **score** is that
   similarity and its **time** the midpoint of the centre word.

The result is one :class:`StepMatch` per step; :mod:`instructvid.steps.narration.constraints` turns matches
into intervals (step 5 there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from instructvid.align.dp import ordered_assignment
from instructvid.io.subtitles import TimedWord
from instructvid.text.encoder import TextEncoder

__all__ = [
    "DEFAULT_STRIDES",
    "DEFAULT_WINDOW",
    "StepMatch",
    "default_stride",
    "match_steps",
    "ordered_peaks",
]

#: Words per sliding window.
DEFAULT_WINDOW = 10
#: Words between window centres per representation when not given: MiniLM runs a transformer
#: on every window, so it looks at every 4th word (≈ 1.5 s of speech; intervals are 9 s long).
DEFAULT_STRIDES: dict[str, int] = {"tfidf": 1, "wordvec": 1, "learned": 1, "minilm": 4}


def default_stride(text: str) -> int:
    """The default stride of a representation (:data:`DEFAULT_STRIDES`)."""
    return DEFAULT_STRIDES.get(text, 1)


@dataclass(frozen=True)
class StepMatch:
    """Where step ``step`` (1-based) was matched in the narration.

    Attributes:
        step: 1-based step index.
        time: seconds, the midpoint of the chosen window's centre word.
        score: cosine similarity of the chosen window and the step text.
        first_word, last_word: the step's run in the DP, as word indices (inclusive).
    """

    step: int
    time: float
    score: float
    first_word: int
    last_word: int


def ordered_peaks(similarity: np.ndarray) -> list[tuple[int, int, int]]:
    """Ordered at-least-once matching of K steps to P positions (steps 3–4 of the module doc).

    Args:
        similarity: (P, K) cosine similarities, P >= K.

    Returns:
        per step k: ``(peak, first, last)`` position indices; ``first <= peak <= last`` and the
        runs ``[first, last]`` are disjoint and in step order.
    """
    s = np.asarray(similarity, dtype=np.float64)
    n_pos, n_steps = s.shape
    if n_pos < n_steps:
        raise ValueError(f"{n_pos} positions cannot hold {n_steps} ordered steps")
    scores = s - s.mean(axis=0, keepdims=True)
    labels = ordered_assignment(scores, exactly_one=False, maximize=True)
    out = []
    for k in range(n_steps):
        run = np.flatnonzero(labels[:, k])
        first, last = int(run[0]), int(run[-1])
        peak = first + int(np.argmax(s[first : last + 1, k]))
        out.append((peak, first, last))
    return out


def match_steps(
    words: Sequence[TimedWord],
    steps: Sequence[str],
    encoder: TextEncoder,
    *,
    window: int = DEFAULT_WINDOW,
    stride: int = 1,
) -> list[StepMatch]:
    """Match every step to the narration in order (module docstring, steps 1–4).

    Args:
        words: the video's timed words (time order).
        steps: the K step texts.
        encoder: a fitted text representation.
        window: w, words per window.
        stride: words between window centres.

    Returns:
        K matches in step order.

    Raises:
        ValueError: fewer windows than steps.
    """
    texts = [w.word for w in words]
    sim = encoder.window_similarity(texts, list(steps), window=window, stride=stride)
    out = []
    for k, (peak, first, last) in enumerate(ordered_peaks(sim)):
        centre = words[peak * stride]
        out.append(
            StepMatch(
                step=k + 1,
                time=round((centre.start + centre.end) / 2, 3),
                score=float(sim[peak, k]),
                first_word=first * stride,
                last_word=min(last * stride, len(words) - 1),
            )
        )
    return out
