"""The features of a synthetic video: its plan rendered to one appearance vector per second
(:func:`render_features`).
"""

from __future__ import annotations

import math

import numpy as np

from instructvid.synth.crosstask.plan import VideoPlan
from instructvid.synth.crosstask.world import World, WorldTask, unit_vectors, video_seeds

__all__ = ["render_features"]


def render_features(world: World, task: WorldTask, video_index: int, plan: VideoPlan) -> np.ndarray:
    """The (T, D) float32 features of a planned video, one row per second.

    Row ``t`` averages the content of the intervals overlapping ``[t, t + 1)`` (weighted by
    overlap), plus the task context, action and progress terms, the video offset and AR(1)
    noise (``docs/synth.md``).
    """
    rng = np.random.default_rng(video_seeds(world, task, video_index)[1])
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
        jitter = unit_vectors(rng.standard_normal(dim))
        if iv.step >= 0:
            content[i] = unit_vectors(steps[iv.step] + lat.video_step * jitter)
            is_step[i] = 1.0
            phi = np.clip((mid - iv.start) / (iv.end - iv.start), 0.0, 1.0)
            progress[:, i] = (iv.step + phi) / k_steps
        else:
            content[i] = unit_vectors(world.topics[iv.topic] + lat.background_jitter * jitter)
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
