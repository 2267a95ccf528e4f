"""The plan of one synthetic video: which steps, in which order, on which timeline, with its
narration and constraints (:func:`plan_video`); everything but the features.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from instructvid.io.crosstask import Segment
from instructvid.io.subtitles import Cue
from instructvid.synth.crosstask.narration import Mention, narrate, narration_constraints
from instructvid.synth.crosstask.spec import TOPICS
from instructvid.synth.crosstask.world import World, WorldTask, video_seeds

__all__ = ["Interval", "VideoPlan", "plan_video"]


@dataclass(frozen=True)
class Interval:
    """A piece of the timeline: a step (``step`` >= 0, 0-based) or background (``topic``)."""

    start: float
    end: float
    step: int = -1
    topic: int = -1


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


def plan_video(world: World, task: WorldTask, video_index: int) -> VideoPlan:
    """Draw the structure, narration and constraints of video ``video_index`` of ``task``.

    Independent of ``world.dim`` and of the order in which videos are generated.
    """
    rng = np.random.default_rng(video_seeds(world, task, video_index)[0])
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

    mentions, cues = narrate(rng, lat, task, order, segments, duration)
    constraints = narration_constraints(rng, lat, k_steps, mentions, duration)
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
