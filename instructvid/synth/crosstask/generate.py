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

Modules: :mod:`~instructvid.synth.crosstask.spec` (sizes, latent parameters),
:mod:`~instructvid.synth.crosstask.world` (tasks, video ids, appearance vectors),
:mod:`~instructvid.synth.crosstask.plan` (one video's timeline),
:mod:`~instructvid.synth.crosstask.narration` (mentions, subtitles, constraints),
:mod:`~instructvid.synth.crosstask.render` (features), :mod:`~instructvid.synth.crosstask.stats`
(statistics, ``synth_world.json``); this module writes a world and re-exports their public names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_write_json, skip_fsync
from instructvid.io.crosstask import (
    CrossTaskPaths,
    VideoEntry,
    write_features,
    write_segments,
    write_task_cards,
    write_video_list,
)
from instructvid.io.ids import safe_join
from instructvid.io.subtitles import write_webvtt
from instructvid.synth.crosstask.narration import Mention
from instructvid.synth.crosstask.plan import Interval, VideoPlan, plan_video
from instructvid.synth.crosstask.render import render_features
from instructvid.synth.crosstask.spec import (
    GENERATOR_VERSION,
    SIZES,
    TOPICS,
    LatentParams,
    WorldSpec,
    resolve_spec,
)
from instructvid.synth.crosstask.stats import describe_world, order_consistency, plan_statistics
from instructvid.synth.crosstask.world import World, WorldTask, build_world
from instructvid.types import ProgressCallback

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

#: Name of the file written last; its presence marks a complete world.
WORLD_FILE = "synth_world.json"


def generate_crosstask(
    out: str | Path,
    *,
    size: str = "tiny",
    seed: int = 0,
    dim: int | None = None,
    progress: ProgressCallback | None = None,
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
    _spec, dim = resolve_spec(size, dim)
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
    atomic_write_json(marker, describe_world(world, stats))
    return out


def _write_videos(
    world: World,
    paths: CrossTaskPaths,
    subtitles: Path,
    dim: int,
    stats: list[tuple[WorldTask, dict[str, float]]],
    progress: ProgressCallback | None,
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
                safe_join(subtitles, f"{vid}.vtt"),
            ]
            if task.primary:
                files.append(paths.annotation(task.task.task_id, vid))
            if all(f.is_file() for f in files):
                _check_existing(paths.feature(vid), plan.n_frames, dim)
            else:
                if task.primary:
                    write_segments(paths.annotation(task.task.task_id, vid), plan.segments)
                write_segments(paths.constraint(task.task.task_id, vid), plan.constraints)
                write_webvtt(safe_join(subtitles, f"{vid}.vtt"), plan.cues)
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
