"""Synthetic CrossTask worlds, written in the exact release layout.

:func:`generate_crosstask` writes, under ``out``::

    crosstask_release/tasks_primary.txt, tasks_related.txt     task cards
    crosstask_release/videos.csv, videos_val.csv                task_id,video_id,url
    crosstask_release/annotations/<task>_<vid>.csv              step,start,end (primary only)
    crosstask_features/<vid>.npy                                float32 (T, D), one row per second
    crosstask_constraints/<task>_<vid>.csv                      narration intervals (every video)
    subtitles/<vid>.vtt                                         WebVTT narration
    synth_world.json                                            parameters and statistics (last)

Times are **seconds** everywhere; ``T = ceil(duration)`` feature rows, row ``t`` = second ``t``.

The latent model (documented with equations in ``docs/synth.md``): every component (content word
of the step texts) has a random unit prototype in R^D; a step's appearance is the normalised mean
of its components' prototypes plus a small step-specific perturbation, so that steps sharing words
look alike across tasks. A video is a sequence of intervals -- intro, steps separated by background
gaps, outro -- rasterised per second; background intervals show one of a few "topics"; step frames
carry an action direction and a temporal-progress direction growing with the step's position in
the task; a per-video offset and AR(1) frame noise are added. Narration mentions steps a few
seconds before they happen (some never, some spuriously), and the constraints are ~9 s intervals
around an ordered selection of those mentions.

Everything is deterministic for a given ``(size, seed, dim)``: each video draws from its own
``SeedSequence(seed, spawn_key=(1, task, video))``, so output does not depend on generation order
and an interrupted run can be resumed (videos whose files all exist are skipped). The video
structure (steps, times, narration, constraints) does not depend on ``dim``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_write_json, skip_fsync
from instructvid.io.crosstask import (
    CrossTaskPaths,
    Segment,
    Task,
    VideoEntry,
    write_features,
    write_segments,
    write_task_cards,
    write_video_list,
)
from instructvid.io.subtitles import Cue, write_webvtt
from instructvid.synth import vocabulary as vocab

__all__ = [
    "GENERATOR_VERSION",
    "SIZES",
    "TOPICS",
    "WORLD_FILE",
    "Interval",
    "LatentParams",
    "Mention",
    "VideoPlan",
    "World",
    "WorldSpec",
    "WorldTask",
    "build_world",
    "generate_crosstask",
    "order_consistency",
    "plan_statistics",
    "plan_video",
    "render_features",
]

#: Bumped whenever the output for a given (size, seed, dim) changes.
GENERATOR_VERSION = "2"

#: Name of the file written last; its presence marks a complete world.
WORLD_FILE = "synth_world.json"

_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))

#: Background topics: 0 = intro, 1 = outro, the others fill the gaps between steps.
TOPICS: tuple[str, ...] = (
    "intro",
    "outro",
    "talking to camera",
    "showing ingredients or tools",
    "showing the result",
    "b-roll",
)


@dataclass(frozen=True)
class LatentParams:
    """Parameters of the latent model (see ``docs/synth.md`` for the equations).

    Appearance (unit-norm vectors unless said otherwise; noise is per coordinate, so the noise
    along any fixed unit direction has the same std at every ``D``):

    Attributes:
        step_specific: eta, weight of a step's own random direction added to its components' mean.
        video_step: zeta, weight of a per-(video, step) random direction (people do steps
            differently).
        background_jitter: weight of a per-interval random direction added to a topic.
        task_context: kappa, weight of the task's context vector added to every frame of its
            videos.
        action: alpha, weight of the shared action direction on step frames.
        progress: gamma, weight of the progress direction; a step frame has
            ``progress * (k - 1 + phi) / K`` along it (``phi`` in [0, 1] the position within
            the step), a background interval a constant drawn uniformly in ``[0, progress]``.
        video_offset: nu, per-coordinate std of the per-video offset (camera, lighting).
        noise: sigma, per-coordinate std of the per-frame noise.
        noise_ar: AR(1) coefficient of the frame noise over seconds.
        step_log_sd: log-normal spread of step durations.
        video_background_sd: std of a video's background fraction around its task's.
        order_swap: adjacent present steps are swapped with probability
            ``order_swap * (1 - order consistency of the task)``.
        mention: probability that a present step is mentioned in the narration.
        mention_lead: mean lead (seconds) of a mention before the step starts.
        mention_lead_sd: std (seconds) of that lead.
        mention_repeat: probability of a second mention during the step.
        mention_missing: probability that a missing step is mentioned anyway.
        mention_spurious: probability of one out-of-order mention of a random step per video.
        constraint_length: (min, max) seconds of a constraint interval (uniform; mean 9 s).
        word_seconds: (min, max) duration of a spoken word.
        cue_words: maximum number of words of a subtitle cue.
    """

    step_specific: float = 0.35
    video_step: float = 0.3
    background_jitter: float = 0.3
    task_context: float = 0.3
    action: float = 0.6
    progress: float = 1.0
    video_offset: float = 0.05
    noise: float = 0.2
    noise_ar: float = 0.5
    step_log_sd: float = 0.45
    video_background_sd: float = 0.06
    order_swap: float = 1.5
    mention: float = 0.75
    mention_lead: float = 4.0
    mention_lead_sd: float = 4.5
    mention_repeat: float = 0.2
    mention_missing: float = 0.15
    mention_spurious: float = 0.35
    constraint_length: tuple[float, float] = (5.0, 13.0)
    word_seconds: tuple[float, float] = (0.28, 0.45)
    cue_words: int = 7


@dataclass(frozen=True)
class WorldSpec:
    """Size parameters of a synthetic world.

    Attributes:
        name: the size's name.
        n_primary: number of primary (annotated) tasks, taken from
            :data:`~instructvid.synth.vocabulary.PRIMARY_TASKS` in order.
        n_related: number of related tasks (those closest to the chosen primary tasks).
        videos_per_primary: videos per primary task (validation included); ``None`` = the release's
            per-task counts (2,750 in total).
        val_per_primary: validation videos per primary task.
        videos_per_related: videos per related task.
        dim: default feature dimension D.
        step_median: median step duration (seconds).
        step_min: shortest step (seconds).
        step_max: longest step (seconds).
        latent: the latent-model parameters.
    """

    name: str
    n_primary: int
    n_related: int
    videos_per_primary: int | None
    val_per_primary: int
    videos_per_related: int
    dim: int
    step_median: float
    step_min: float
    step_max: float
    latent: LatentParams = field(default_factory=LatentParams)


#: The sizes of :func:`generate_crosstask`.
SIZES: dict[str, WorldSpec] = {
    "tiny": WorldSpec("tiny", 3, 3, 8, 2, 4, 32, 4.5, 4.0, 9.0),
    "small": WorldSpec("small", 6, 10, 20, 4, 8, 64, 5.5, 4.0, 14.0),
    "medium": WorldSpec("medium", 18, 65, 45, 5, 15, 256, 9.0, 4.0, 25.0),
    "full": WorldSpec("full", 18, 65, None, 20, 30, 3200, 13.0, 4.0, 45.0),
}

_MIN_DIM = 8


# ------------------------------------------------------------------------------------------
# The world: tasks, videos and appearance vectors


@dataclass(frozen=True)
class WorldTask:
    """A task of a world with its latent statistics.

    Attributes:
        index: position among all tasks of the world (primary first).
        task: the task card.
        primary: annotated or not.
        videos: video ids, in ``videos.csv`` order.
        val: the validation video ids (primary tasks only).
        missing: per-step probability of being missing from a video, shape (K,).
        background: mean background fraction of its videos.
        order: target order consistency.
        swap: probability of swapping two adjacent present steps.
    """

    index: int
    task: Task
    primary: bool
    videos: tuple[str, ...]
    val: tuple[str, ...]
    missing: np.ndarray
    background: float
    order: float
    swap: float


@dataclass
class World:
    """Everything that is shared by the videos of a synthetic world.

    Attributes:
        spec: the size.
        seed: the seed.
        dim: D.
        tasks: primary tasks first, then related ones.
        components: sorted component names (M).
        prototypes: (M, D) unit prototypes of the components.
        step_vectors: ``{task_id: (K, D)}`` unit step appearances.
        topics: (len(TOPICS), D) unit background topics.
        context: ``{task_id: (D,)}`` unit task-context vectors.
        action: (D,) unit action direction.
        progress: (D,) unit progress direction.
    """

    spec: WorldSpec
    seed: int
    dim: int
    tasks: list[WorldTask]
    components: list[str]
    prototypes: np.ndarray
    step_vectors: dict[str, np.ndarray]
    topics: np.ndarray
    context: dict[str, np.ndarray]
    action: np.ndarray
    progress: np.ndarray


def build_world(size: str = "tiny", *, seed: int = 0, dim: int | None = None) -> World:
    """Draw the shared part of a world (tasks, video ids, appearance vectors); writes nothing.

    Raises:
        ValueError: unknown ``size`` or ``dim < 8``.
    """
    spec, dim = _check_args(size, dim)
    lat = spec.latent
    primary = list(vocab.PRIMARY_TASKS[: spec.n_primary])
    related = _pick_related(primary, spec.n_related)
    struct = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    table = np.array([(t.missing, t.background, t.order) for t in vocab.PRIMARY_TASKS])

    tasks: list[WorldTask] = []
    used_ids: set[str] = set()
    for index, ts in enumerate(primary + related):
        is_primary = index < len(primary)
        if is_primary:
            n_videos = ts.n_videos if spec.videos_per_primary is None else spec.videos_per_primary
            missing, background, order = ts.missing, ts.background, ts.order
        else:
            n_videos = spec.videos_per_related
            row = table[struct.integers(len(table))]
            missing = float(np.clip(row[0] + struct.normal(0, 0.03), 0.1, 0.5))
            background = float(np.clip(row[1] + struct.normal(0, 0.03), 0.55, 0.86))
            order = float(np.clip(row[2] + struct.normal(0, 0.03), 0.6, 1.0))
        k = len(ts.steps)
        per_step = np.clip(missing + struct.normal(0, 0.12, size=k), 0.03, 0.8)
        per_step = np.clip(per_step + (missing - per_step.mean()), 0.02, 0.85)
        videos = []
        for _ in range(n_videos):
            vid = "".join(_ID_ALPHABET[struct.integers(64, size=11)])
            while vid in used_ids:
                vid = "".join(_ID_ALPHABET[struct.integers(64, size=11)])
            used_ids.add(vid)
            videos.append(vid)
        val: tuple[str, ...] = ()
        if is_primary:
            chosen = np.sort(struct.permutation(n_videos)[: spec.val_per_primary])
            val = tuple(videos[i] for i in chosen)
        task = Task(task_id=ts.task_id, title=ts.title, url=ts.url, steps=ts.steps)
        tasks.append(
            WorldTask(
                index=index,
                task=task,
                primary=is_primary,
                videos=tuple(videos),
                val=val,
                missing=per_step,
                background=float(background),
                order=float(order),
                swap=float(min(0.7, lat.order_swap * (1.0 - order))),
            )
        )

    appear = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, dim)))
    components = sorted({c for t in tasks for s in t.task.steps for c in vocab.components(s)})
    prototypes = _unit(appear.standard_normal((len(components), dim)))
    position = {c: i for i, c in enumerate(components)}
    step_vectors = {}
    context = {}
    for t in tasks:
        rows = []
        for step in t.task.steps:
            mean = prototypes[[position[c] for c in vocab.components(step)]].mean(axis=0)
            own = _unit(appear.standard_normal(dim))
            rows.append(_unit(_unit(mean) + lat.step_specific * own))
        step_vectors[t.task.task_id] = np.array(rows)
        context[t.task.task_id] = _unit(appear.standard_normal(dim))
    topics = _unit(appear.standard_normal((len(TOPICS), dim)))
    action = _unit(appear.standard_normal(dim))
    progress = _unit(appear.standard_normal(dim))
    return World(
        spec=spec,
        seed=seed,
        dim=dim,
        tasks=tasks,
        components=components,
        prototypes=prototypes,
        step_vectors=step_vectors,
        topics=topics,
        context=context,
        action=action,
        progress=progress,
    )


def _check_args(size: str, dim: int | None) -> tuple[WorldSpec, int]:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")
    spec = SIZES[size]
    if dim is None:
        dim = spec.dim
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < _MIN_DIM:
        raise ValueError(
            f"dim must be an integer >= {_MIN_DIM} (or None for {spec.dim}), got {dim!r}"
        )
    return spec, int(dim)


def _pick_related(primary: Sequence[vocab.TaskSpec], n: int) -> list[vocab.TaskSpec]:
    """``n`` related tasks for the chosen primary tasks, in vocabulary order.

    Round robin over the primary tasks (each one's related tasks by decreasing number of
    components shared with all chosen primary tasks), then the others by shared components.
    """
    if n >= len(vocab.RELATED_TASKS):
        return list(vocab.RELATED_TASKS)
    words = {c for t in primary for s in t.steps for c in vocab.components(s)}

    def shared(item: tuple[int, vocab.TaskSpec]) -> tuple[int, int]:
        index, t = item
        return (-len(words & {c for s in t.steps for c in vocab.components(s)}), index)

    ranked = sorted(enumerate(vocab.RELATED_TASKS), key=shared)
    queues = [[item for item in ranked if item[1].related_to == p.title] for p in primary]
    chosen: list[tuple[int, vocab.TaskSpec]] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    chosen += [item for item in ranked if item not in chosen][: n - len(chosen)]
    return [t for _, t in sorted(chosen, key=lambda item: item[0])]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# ------------------------------------------------------------------------------------------
# One video: plan (structure, narration, constraints) and features


@dataclass(frozen=True)
class Interval:
    """A piece of the timeline: a step (``step`` >= 0, 0-based) or background (``topic``)."""

    start: float
    end: float
    step: int = -1
    topic: int = -1


@dataclass(frozen=True)
class Mention:
    """A step named in the narration at ``time`` seconds (time of the step's first word).

    ``kind``: ``"step"`` (before/around a present step), ``"repeat"`` (during it), ``"missing"``
    (a step absent from the video) or ``"spurious"`` (a random step at a random time).
    """

    time: float
    step: int
    kind: str


@dataclass(frozen=True)
class VideoPlan:
    """The structure of one video; everything but its features.

    Attributes:
        task_id, video_id: identifiers.
        duration: length in seconds (float); the features have ``T = ceil(duration)`` rows.
        intervals: the timeline, covering ``[0, duration]`` without gaps.
        segments: ground-truth segments of the present steps (1-based steps, time order).
        n_steps: K of the task.
        mentions: narration mentions, in time order.
        cues: subtitle cues.
        constraints: one narration interval per step (1-based, step order).
    """

    task_id: str
    video_id: str
    duration: float
    intervals: tuple[Interval, ...]
    segments: tuple[Segment, ...]
    n_steps: int
    mentions: tuple[Mention, ...]
    cues: tuple[Cue, ...]
    constraints: tuple[Segment, ...]

    @property
    def n_frames(self) -> int:
        """T, the number of feature rows (seconds)."""
        return math.ceil(self.duration)


def _video_seeds(world: World, task: WorldTask, video_index: int) -> list[np.random.SeedSequence]:
    root = np.random.SeedSequence(world.seed, spawn_key=(1, task.index, video_index))
    return root.spawn(2)


def plan_video(world: World, task: WorldTask, video_index: int) -> VideoPlan:
    """Draw the structure, narration and constraints of video ``video_index`` of ``task``.

    Independent of ``world.dim`` and of the order in which videos are generated.
    """
    rng = np.random.default_rng(_video_seeds(world, task, video_index)[0])
    spec, lat = world.spec, world.spec.latent
    k_steps = task.task.n_steps

    # Which steps, in which order.
    present = rng.random(k_steps) >= task.missing
    if not present.any():
        present[rng.integers(k_steps)] = True
    order = [int(k) for k in np.flatnonzero(present)]
    i = 0
    while i < len(order) - 1:
        if rng.random() < task.swap:
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 2
        else:
            i += 1

    # Durations: steps first, background from the video's background fraction.
    n = len(order)
    lengths = np.clip(
        np.exp(rng.normal(math.log(spec.step_median), lat.step_log_sd, size=n)),
        spec.step_min,
        spec.step_max,
    )
    fraction = float(np.clip(task.background + rng.normal(0, lat.video_background_sd), 0.45, 0.92))
    # A step covers ceil(end) - floor(start) feature rows, one more than its length on average:
    # aim the background fraction at rows, (B - n) / (S + B) = f, not at continuous time.
    background = (fraction * lengths.sum() + n) / (1.0 - fraction)
    parts = rng.dirichlet([2.5] + [1.0] * (n - 1) + [1.5]) * background

    intervals: list[Interval] = []
    segments: list[Segment] = []
    t = 0.0

    def add_background(length: float, topic: int | None) -> None:
        nonlocal t
        end = round(t + length, 3)
        if end <= t:
            return
        if topic is not None:
            intervals.append(Interval(t, end, topic=topic))
        else:
            pieces = max(1, math.ceil((end - t) / 20.0))
            cuts = np.sort(rng.uniform(t, end, size=pieces - 1))
            edges = [t, *(round(float(c), 3) for c in cuts), end]
            for a, b in itertools.pairwise(edges):
                if b > a:
                    intervals.append(Interval(a, b, topic=int(rng.integers(2, len(TOPICS)))))
        t = end

    add_background(float(parts[0]), 0)
    for j, k in enumerate(order):
        if j > 0:
            add_background(float(parts[j]), None)
        end = round(t + float(lengths[j]), 3)
        intervals.append(Interval(t, end, step=k))
        segments.append(Segment(k + 1, t, end))
        t = end
    add_background(float(parts[-1]), 1)
    duration = t

    mentions, cues = _narrate(rng, lat, task, order, segments, duration)
    constraints = _constraints(rng, lat, k_steps, mentions, duration)
    return VideoPlan(
        task_id=task.task.task_id,
        video_id=task.videos[video_index],
        duration=duration,
        intervals=tuple(intervals),
        segments=tuple(segments),
        n_steps=k_steps,
        mentions=tuple(mentions),
        cues=tuple(cues),
        constraints=tuple(constraints),
    )


def _step_phrase(rng: np.random.Generator, step: str) -> list[str]:
    words = vocab.tokens(step)
    if len(words) >= 2 and words[1] not in vocab.STOPWORDS and rng.random() < 0.5:
        words = [words[0], rng.choice(["the", "some", "your"]), *words[1:]]
    return words


def _narrate(
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


def _constraints(
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


def render_features(world: World, task: WorldTask, video_index: int, plan: VideoPlan) -> np.ndarray:
    """The (T, D) float32 features of a planned video, one row per second.

    Row ``t`` averages the content of the intervals overlapping ``[t, t + 1)`` (weighted by
    overlap), plus the task context, action and progress terms, the video offset and AR(1)
    noise (``docs/synth.md``).
    """
    rng = np.random.default_rng(_video_seeds(world, task, video_index)[1])
    lat, dim = world.spec.latent, world.dim
    n_rows = plan.n_frames
    starts = np.array([iv.start for iv in plan.intervals])
    ends = np.array([iv.end for iv in plan.intervals])
    rows = np.arange(n_rows, dtype=np.float64)[:, None]
    overlap = np.clip(np.minimum(rows + 1, ends) - np.maximum(rows, starts), 0.0, None)
    overlap /= overlap.sum(axis=1, keepdims=True)

    steps = world.step_vectors[task.task.task_id]
    k_steps = steps.shape[0]
    content = np.empty((len(plan.intervals), dim))
    is_step = np.zeros(len(plan.intervals))
    progress = np.zeros((n_rows, len(plan.intervals)))
    mid = rows[:, 0] + 0.5
    for i, iv in enumerate(plan.intervals):
        jitter = _unit(rng.standard_normal(dim))
        if iv.step >= 0:
            content[i] = _unit(steps[iv.step] + lat.video_step * jitter)
            is_step[i] = 1.0
            phi = np.clip((mid - iv.start) / (iv.end - iv.start), 0.0, 1.0)
            progress[:, i] = (iv.step + phi) / k_steps
        else:
            content[i] = _unit(world.topics[iv.topic] + lat.background_jitter * jitter)
            progress[:, i] = rng.uniform(0.0, 1.0)

    feats = overlap @ content
    feats += lat.task_context * world.context[task.task.task_id]
    feats += lat.action * (overlap @ is_step)[:, None] * world.action
    feats += lat.progress * (overlap * progress).sum(axis=1)[:, None] * world.progress
    feats += lat.video_offset * rng.standard_normal(dim)
    noise = rng.standard_normal((n_rows, dim)) * lat.noise
    scale = math.sqrt(1.0 - lat.noise_ar**2)
    for r in range(1, n_rows):
        noise[r] = lat.noise_ar * noise[r - 1] + scale * noise[r]
    feats += noise
    return feats.astype(np.float32)


# ------------------------------------------------------------------------------------------
# Writing a world


def generate_crosstask(
    out: str | Path,
    *,
    size: str = "tiny",
    seed: int = 0,
    dim: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a synthetic CrossTask world under ``out`` in the release layout.

    Args:
        out: the ``DATA`` folder to write (created if needed).
        size: one of :data:`SIZES` (``tiny``, ``small``, ``medium``, ``full``).
        seed: the seed; the same ``(size, seed, dim)`` gives byte-identical files.
        dim: feature dimension D (default: the size's); the video structure does not depend on it.
        progress: called as ``progress(done, total)`` after each video (skipped ones included).

    Returns:
        ``out`` as a Path. Files: ``crosstask_features/<vid>.npy`` float32 (T, D) with
        ``T = ceil(duration seconds)``; step CSVs in seconds; see the module docstring.
        Videos whose files all exist are skipped (resume); ``synth_world.json`` is written last.

    Raises:
        ValueError: unknown ``size``, ``dim < 8``, or ``out`` holding a world generated with other
            parameters.
    """
    _spec, dim = _check_args(size, dim)
    out = Path(out)
    marker = out / WORLD_FILE
    if marker.is_file():
        try:
            old = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        mine = {"version": GENERATOR_VERSION, "size": size, "seed": seed, "dim": dim}
        theirs = {key: old.get(key) for key in mine}
        if theirs != mine:
            raise ValueError(
                f"{out} already holds a synthetic world with {theirs}; asked for {mine}. "
                "Use another folder."
            )

    world = build_world(size, seed=seed, dim=dim)
    paths = CrossTaskPaths.from_root(out)
    primary = [t for t in world.tasks if t.primary]
    related = [t for t in world.tasks if not t.primary]
    write_task_cards(paths.tasks_primary, [t.task for t in primary])
    write_task_cards(paths.tasks_related, [t.task for t in related])
    write_video_list(
        paths.videos, [_entry(t.task.task_id, v) for t in world.tasks for v in t.videos]
    )
    write_video_list(paths.videos_val, [_entry(t.task.task_id, v) for t in primary for v in t.val])
    subtitles = out / "subtitles"

    stats: list[tuple[WorldTask, dict[str, float]]] = []
    # Regenerable output: per-file fsync skipped, one sync before the marker (io/atomic.py).
    with skip_fsync():
        _write_videos(world, paths, subtitles, dim, stats, progress)
    os.sync()
    atomic_write_json(marker, _describe(world, stats))
    return out


def _write_videos(
    world: World,
    paths: CrossTaskPaths,
    subtitles: Path,
    dim: int,
    stats: list[tuple[WorldTask, dict[str, float]]],
    progress: Callable[[int, int], None] | None,
) -> None:
    """Write every video's files (skipping finished ones); append each plan's statistics."""
    total = sum(len(t.videos) for t in world.tasks)
    done = 0
    for task in world.tasks:
        for index, vid in enumerate(task.videos):
            plan = plan_video(world, task, index)
            stats.append((task, plan_statistics(plan)))
            files = [
                paths.feature(vid),
                paths.constraint(task.task.task_id, vid),
                subtitles / f"{vid}.vtt",
            ]
            if task.primary:
                files.append(paths.annotation(task.task.task_id, vid))
            if all(f.is_file() for f in files):
                _check_existing(paths.feature(vid), plan.n_frames, dim)
            else:
                if task.primary:
                    write_segments(paths.annotation(task.task.task_id, vid), plan.segments)
                write_segments(paths.constraint(task.task.task_id, vid), plan.constraints)
                write_webvtt(subtitles / f"{vid}.vtt", plan.cues)
                write_features(paths.feature(vid), render_features(world, task, index, plan))
            done += 1
            if progress is not None:
                progress(done, total)


def _entry(task_id: str, video_id: str) -> VideoEntry:
    return VideoEntry(task_id, video_id, f"https://www.youtube.com/watch?v={video_id}")


def _check_existing(path: Path, n_frames: int, dim: int) -> None:
    shape = np.load(path, mmap_mode="r").shape
    if tuple(shape) != (n_frames, dim):
        raise ValueError(
            f"{path} has shape {tuple(shape)} but this world expects ({n_frames}, {dim}); "
            "it was written by another generation. Use another folder."
        )


# ------------------------------------------------------------------------------------------
# Statistics (from the plans; cheap, dimension independent)


def order_consistency(steps: Sequence[int]) -> float:
    """Longest increasing subsequence of step indices in time order / number of steps.

    ``2 -> 1 -> 3`` gives 2/3 (thesis §3.5.2, after Alayrac et al.).
    """
    if not steps:
        return 1.0
    tails: list[int] = []
    for s in steps:
        lo = int(np.searchsorted(tails, s))
        if lo == len(tails):
            tails.append(s)
        else:
            tails[lo] = s
    return len(tails) / len(steps)


def _pairwise_order(steps: Sequence[int]) -> float:
    n = len(steps)
    if n < 2:
        return 1.0
    good = sum(steps[i] < steps[j] for i in range(n) for j in range(i + 1, n))
    return good / (n * (n - 1) / 2)


def plan_statistics(plan: VideoPlan) -> dict[str, float]:
    """Table 3.2 statistics of one video, from its plan.

    Returns:
        ``duration`` (s), ``background`` (fraction of feature rows covered by no step segment,
        rows as in ``Segment.rows``), ``missing`` (fraction of the K steps absent),
        ``frames`` (T), ``order`` (order consistency: longest in-order subsequence / steps
        present), ``order_pairwise`` (fraction of pairs of present steps in task order),
        ``constraint_length`` (mean, s) and ``outside`` (fraction of present steps lying
        entirely outside their constraint interval).
    """
    covered = np.zeros(plan.n_frames, dtype=bool)
    for seg in plan.segments:
        rows = seg.rows()
        covered[rows.start : rows.stop] = True
    present = {s.step for s in plan.segments}
    by_step = {c.step: c for c in plan.constraints}
    outside = [
        s.end <= by_step[s.step].start or s.start >= by_step[s.step].end for s in plan.segments
    ]
    return {
        "duration": plan.duration,
        "frames": float(plan.n_frames),
        "background": 1.0 - covered.mean(),
        "missing": 1.0 - len(present) / plan.n_steps,
        "order": order_consistency([s.step for s in plan.segments]),
        "order_pairwise": _pairwise_order([s.step for s in plan.segments]),
        "constraint_length": float(np.mean([c.end - c.start for c in plan.constraints])),
        "outside": float(np.mean(outside)),
    }


def _describe(world: World, video_stats: Sequence[tuple[WorldTask, dict[str, float]]]) -> dict:
    spec = world.spec
    per_task: dict[str, dict[str, float]] = {}
    for task in world.tasks:
        stats = [s for t, s in video_stats if t is task]
        per_task[task.task.task_id] = {
            key: round(float(np.mean([s[key] for s in stats])), 4) for key in stats[0]
        }
    primary = [t for t in world.tasks if t.primary]
    related = [t for t in world.tasks if not t.primary]

    def mean_over(tasks: Sequence[WorldTask], key: str) -> float:
        return round(float(np.mean([per_task[t.task.task_id][key] for t in tasks])), 4)

    words = {w for t in world.tasks for s in t.task.steps for w in vocab.tokens(s)}
    n_videos = sum(len(t.videos) for t in world.tasks)
    frames = int(sum(s["frames"] for _, s in video_stats))
    keys = [key for key in video_stats[0][1] if key != "frames"]
    spec_dict = asdict(spec)
    spec_dict.pop("latent")
    return {
        "generator": "instructvid.synth.crosstask",
        "version": GENERATOR_VERSION,
        "size": spec.name,
        "seed": world.seed,
        "dim": world.dim,
        "counts": {
            "primary_tasks": len(primary),
            "related_tasks": len(related),
            "primary_steps": sum(t.task.n_steps for t in primary),
            "videos": n_videos,
            "primary_videos": sum(len(t.videos) for t in primary),
            "related_videos": sum(len(t.videos) for t in related),
            "validation_videos": sum(len(t.val) for t in primary),
            "components": len(world.components),
            "unique_words": len(words),
            "feature_rows": frames,
            "feature_bytes": frames * world.dim * 4 + n_videos * 128,
        },
        "spec": spec_dict,
        "latent": asdict(spec.latent),
        "topics": list(TOPICS),
        "statistics": {
            "primary_mean_over_tasks": {key: mean_over(primary, key) for key in keys},
            "steps_per_primary_task": round(float(np.mean([t.task.n_steps for t in primary])), 4),
            "related_mean_over_tasks": {key: mean_over(related, key) for key in keys}
            if related
            else {},
            "per_task": per_task,
        },
        "tasks": {
            t.task.task_id: {
                "title": t.task.title,
                "primary": t.primary,
                "components": [list(vocab.components(s)) for s in t.task.steps],
                "missing_per_step": [round(float(m), 4) for m in t.missing],
                "background": round(t.background, 4),
                "order": round(t.order, 4),
                "swap": round(t.swap, 4),
            }
            for t in world.tasks
        },
    }
