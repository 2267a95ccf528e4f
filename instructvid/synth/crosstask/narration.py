"""The narration of a synthetic video: when steps are mentioned, the ASR-like subtitle cues
(:func:`narrate`), and the constraint intervals drawn from the mentions
(:func:`narration_constraints`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from instructvid.io.crosstask import Segment
from instructvid.io.subtitles import Cue
from instructvid.synth.crosstask import vocabulary as vocab
from instructvid.synth.crosstask.spec import LatentParams
from instructvid.synth.crosstask.world import WorldTask

__all__ = ["Mention", "narrate", "narration_constraints"]


@dataclass(frozen=True)
class Mention:
    """A step named in the narration at ``time`` seconds (time of the step's first word).

    ``kind``: ``"step"`` (before/around a present step), ``"repeat"`` (during it), ``"missing"``
    (a step absent from the video) or ``"spurious"`` (a random step at a random time).
    """

    time: float
    step: int
    kind: str


def _step_phrase(rng: np.random.Generator, step: str) -> list[str]:
    words = vocab.tokens(step)
    if len(words) >= 2 and words[1] not in vocab.STOPWORDS and rng.random() < 0.5:
        words = [words[0], rng.choice(["the", "some", "your"]), *words[1:]]
    return words


def narrate(
    rng: np.random.Generator,
    lat: LatentParams,
    task: WorldTask,
    order: Sequence[int],
    segments: Sequence[Segment],
    duration: float,
) -> tuple[list[Mention], list[Cue]]:
    """Mentions (time of first step word) and ASR-like cues covering the video."""
    steps = task.task.steps
    wanted: list[tuple[float, int, str]] = []
    for seg in segments:
        k = seg.step - 1
        if rng.random() < lat.mention:
            lead = rng.normal(lat.mention_lead, lat.mention_lead_sd)
            wanted.append((seg.start - lead, k, "step"))
            if rng.random() < lat.mention_repeat:
                wanted.append((rng.uniform(seg.start, seg.end), k, "repeat"))
    for k in sorted(set(range(len(steps))) - set(order)):
        if rng.random() < lat.mention_missing:
            wanted.append((rng.uniform(0, duration), k, "missing"))
    if rng.random() < lat.mention_spurious:
        wanted.append((rng.uniform(0, duration), int(rng.integers(len(steps))), "spurious"))
    wanted.sort(key=lambda w: w[0])

    lo_w, hi_w = lat.word_seconds
    # Utterances: (start time, words, word boundary times (len(words) + 1,)).
    utterances: list[tuple[float, list[str], np.ndarray]] = []
    mentions: list[Mention] = []
    cursor = 0.0
    title = task.task.title.lower()

    def speak(start: float, words: list[str], anchor: int = -1) -> tuple[float, float]:
        """Place an utterance at ``start``; returns (time of word ``anchor``, end time)."""
        nonlocal cursor
        times = start + np.concatenate([[0.0], np.cumsum(rng.uniform(lo_w, hi_w, len(words)))])
        utterances.append((start, words, times))
        cursor = float(times[-1])
        return float(times[max(anchor, 0)]), cursor

    def fill(until: float) -> None:
        """Filler talk from the cursor up to ``until`` seconds (with pauses)."""
        while True:
            start = cursor + rng.exponential(2.0) + 0.3
            words = vocab.tokens(vocab.FILLER_SENTENCES[rng.integers(len(vocab.FILLER_SENTENCES))])
            if start + len(words) * hi_w + 0.3 > until:
                return
            speak(start, words)

    # Intro.
    for sentence in (
        vocab.INTRO_SENTENCES[rng.integers(2)],
        vocab.INTRO_SENTENCES[2 + rng.integers(2)],
    ):
        words = vocab.tokens(sentence.format(t=title))
        start = cursor + rng.uniform(0.2, 1.0)
        if start + len(words) * hi_w < duration:
            speak(start, words)

    for when, k, kind in wanted:
        phrase = _step_phrase(rng, steps[k])
        templates = (
            vocab.SPURIOUS_TEMPLATES if kind in ("missing", "spurious") else vocab.MENTION_TEMPLATES
        )
        template = templates[rng.integers(len(templates))]
        prefix = vocab.tokens(template.split("{s}")[0])
        suffix = vocab.tokens(template.split("{s}")[1])
        words = prefix + phrase + suffix
        start = when - len(prefix) * (lo_w + hi_w) / 2
        fill(start)
        start = max(start, cursor + 0.2)
        if start + len(words) * hi_w > duration:
            continue
        at, _ = speak(start, words, anchor=len(prefix))
        mentions.append(Mention(round(at, 3), k, kind))

    # Outro: the last sentences, if they fit.
    outro = [vocab.OUTRO_SENTENCES[1 + rng.integers(2)], vocab.OUTRO_SENTENCES[-1]]
    outro_len = sum(len(vocab.tokens(s)) for s in outro) * hi_w + 1.0
    fill(duration - outro_len)
    for sentence in outro:
        words = vocab.tokens(sentence)
        start = cursor + rng.uniform(0.3, 0.8)
        if start + len(words) * hi_w < duration:
            speak(start, words)

    cues: list[Cue] = []
    for _, words, times in utterances:
        n_cues = math.ceil(len(words) / lat.cue_words)
        bounds = np.linspace(0, len(words), n_cues + 1).round().astype(int)
        for a, b in itertools.pairwise(bounds):
            start, end = round(float(times[a]), 3), round(min(float(times[b]), duration), 3)
            cues.append(Cue(start, end, " ".join(words[a:b])))
    return mentions, cues


def narration_constraints(
    rng: np.random.Generator,
    lat: LatentParams,
    k_steps: int,
    mentions: Sequence[Mention],
    duration: float,
) -> list[Segment]:
    """One interval per step around an ordered selection of mentions (steps 1-based).

    The largest set of mentions with increasing step indices in time order is kept (one per
    step); steps without a kept mention get a position drawn between their neighbours'.
    """
    n = len(mentions)
    best = [1] * n
    back = [-1] * n
    for i in range(n):
        for j in range(i):
            if mentions[j].step < mentions[i].step and best[j] + 1 > best[i]:
                best[i], back[i] = best[j] + 1, j
    centre: list[float | None] = [None] * k_steps
    if n:
        i = int(np.argmax(best))
        while i >= 0:
            centre[mentions[i].step] = mentions[i].time
            i = back[i]
    k = 0
    while k < k_steps:
        if centre[k] is not None:
            k += 1
            continue
        run_end = k
        while run_end < k_steps and centre[run_end] is None:
            run_end += 1
        lo = centre[k - 1] if k > 0 else 0.0
        hi = centre[run_end] if run_end < k_steps else duration
        for offset, value in enumerate(np.sort(rng.uniform(lo, hi, size=run_end - k))):
            centre[k + offset] = float(value)
        k = run_end
    out = []
    lo_c, hi_c = lat.constraint_length
    for k, c in enumerate(centre):
        half = rng.uniform(lo_c, hi_c) / 2
        start = round(max(0.0, c - half), 3)
        end = round(min(duration, c + half), 3)
        out.append(Segment(k + 1, start, end))
    return out
