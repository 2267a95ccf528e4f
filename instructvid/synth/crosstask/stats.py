"""Statistics of synthetic videos and worlds (thesis Table 3.2), from the plans: cheap and
independent of the feature dimension; :func:`describe_world` is the content of
``synth_world.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from instructvid.synth.crosstask import vocabulary as vocab
from instructvid.synth.crosstask.plan import VideoPlan
from instructvid.synth.crosstask.spec import GENERATOR_VERSION, TOPICS
from instructvid.synth.crosstask.world import World, WorldTask

__all__ = ["describe_world", "order_consistency", "plan_statistics"]


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


def describe_world(world: World, video_stats: Sequence[tuple[WorldTask, dict[str, float]]]) -> dict:
    """The parameters, counts and statistics of a world (``synth_world.json``), from its
    tasks and the statistics of every video (:func:`plan_statistics`)."""
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
