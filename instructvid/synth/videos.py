"""Synthetic narrated videos: short H.264 MP4s whose frames show the steps of a task, with WebVTT
subtitles and the CrossTask lists (:func:`generate_videos`).

Layout written under ``out``::

    videos/<video_id>.mp4              H.264, ``size`` x ``size`` pixels, ``fps`` frames per second
    subtitles/<video_id>.vtt           WebVTT narration (one video has none)
    tasks.txt                          task cards (CrossTask release format)
    videos.csv                         task_id,video_id,url
    annotations/<task>_<video_id>.csv  ground truth step,start,end (seconds)
    synth_videos.json                  parameters, the bad videos and why (written last)

The timelines, narration and ground truth are those of the synthetic CrossTask world
(:mod:`instructvid.synth.crosstask`): each video is intro, steps separated by background, outro;
the narration announces steps a few seconds early, skips some, mentions some that never happen and
chats in between. Here the timeline is drawn instead of rendered as feature vectors:

- **A step's look is composed from its words.** Every component (content word, singular) has a
  glyph fixed by the word alone (a shape, a colour, a fill pattern: a hash of the word), so
  ``"add sugar"`` in *Make Pancakes* and in *Make Lemonade* look alike and ``"add egg"`` shares
  the ``add`` glyph with them. A step frame shows its components' glyphs side by side on a
  table-coloured ground, moving a little from frame to frame (hands at work); each (video, step)
  draws its own sizes, positions and a small colour shift.
- **Background** (intro, outro, the gaps) shows one of a few static scenes (a topic's colours and
  large soft shapes), with a per-video tint.
- Every frame gets pixel noise; the video gets a per-video brightness offset.

Among the videos (in ``videos.csv``, so that a pipeline reports them): one **corrupt** (an MP4
header followed by garbage), one **empty** (0 bytes), one **without subtitles**; the corrupt and
the empty one have no annotation. Everything is deterministic for a given ``(seed, tasks,
videos_per_task, size, fps)``; finished videos are skipped when run again (resume).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_write_json
from instructvid.io.crosstask import (
    VideoEntry,
    write_segments,
    write_task_cards,
    write_video_list,
)
from instructvid.io.subtitles import Cue, write_webvtt
from instructvid.synth.crosstask import vocabulary as vocab
from instructvid.synth.crosstask.plan import VideoPlan, plan_video
from instructvid.synth.crosstask.spec import SIZES
from instructvid.synth.crosstask.world import World, WorldTask, build_world
from instructvid.synth.frames import Glyph, glyph, render_frame, render_video
from instructvid.types import PathLike, ProgressCallback

__all__ = [
    "MARKER",
    "VIDEO_GENERATOR_VERSION",
    "Glyph",
    "VideoSettings",
    "generate_videos",
    "glyph",
    "render_frame",
    "video_layout",
]

#: Bumped whenever the output for given settings changes.
VIDEO_GENERATOR_VERSION = "1"
#: Written last; its presence marks a complete folder.
MARKER = "synth_videos.json"


@dataclass(frozen=True)
class VideoSettings:
    """What a synthetic video folder is made of.

    Attributes:
        seed: the seed (timelines, narration, per-video looks, noise).
        tasks: number of tasks, the primary tasks of the synthetic vocabulary in order (the first
            three share many words; at most 18).
        videos_per_task: videos per task (the bad ones included).
        size: frame width and height in pixels (even, >= 32).
        fps: frames per second of the MP4s.
        step_median: median step length (seconds); steps last 0.9x to 2x it.
        noise: std of the per-pixel noise (0–255 scale).
    """

    seed: int = 0
    tasks: int = 3
    videos_per_task: int = 10
    size: int = 96
    fps: float = 4.0
    step_median: float = 4.5
    noise: float = 6.0

    def __post_init__(self) -> None:
        if not 1 <= self.tasks <= len(vocab.PRIMARY_TASKS):
            raise ValueError(f"tasks must be 1 to {len(vocab.PRIMARY_TASKS)}, got {self.tasks}")
        if self.videos_per_task < 1:
            raise ValueError(f"videos-per-task must be >= 1, got {self.videos_per_task}")
        if self.size < 32 or self.size % 2:
            raise ValueError(f"size must be an even number of pixels >= 32, got {self.size}")
        if not 0.5 <= self.fps <= 60:
            raise ValueError(f"fps must be in [0.5, 60], got {self.fps}")


def video_layout(out: PathLike) -> dict[str, Path]:
    """The paths of a generated folder: ``videos``, ``subtitles``, ``tasks``, ``list``,
    ``annotations``, ``marker``."""
    out = Path(out)
    return {
        "videos": out / "videos",
        "subtitles": out / "subtitles",
        "tasks": out / "tasks.txt",
        "list": out / "videos.csv",
        "annotations": out / "annotations",
        "marker": out / MARKER,
    }


def _world(settings: VideoSettings) -> World:
    """The synthetic CrossTask world of the settings: its first ``tasks`` primary tasks, each
    with ``videos_per_task`` fresh video ids, and this folder's step lengths."""
    world = build_world("full" if settings.tasks > 6 else "small", seed=settings.seed, dim=8)
    spec = dataclasses.replace(
        SIZES["tiny"],
        name="videos",
        step_median=settings.step_median,
        step_min=0.9 * settings.step_median,
        step_max=2.0 * settings.step_median,
    )
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(7,)))
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    tasks = []
    used: set[str] = set()
    for t in [t for t in world.tasks if t.primary][: settings.tasks]:
        ids = []
        while len(ids) < settings.videos_per_task:
            vid = "".join(alphabet[rng.integers(len(alphabet), size=11)])
            if vid not in used:
                used.add(vid)
                ids.append(vid)
        tasks.append(dataclasses.replace(t, videos=tuple(ids), val=()))
    return dataclasses.replace(world, spec=spec, tasks=tasks)


def _bad_videos(world: World) -> dict[str, str]:
    """``{video_id: kind}``: the last video of the first task is corrupt, of the second empty,
    of the third without subtitles (wrapping around with fewer tasks; never a task's only
    video)."""
    kinds = ("corrupt", "empty", "no-subtitles")
    out: dict[str, str] = {}
    slots = [(t, len(t.videos) - 1 - j) for j in range(3) for t in world.tasks]
    for kind in kinds:
        for task, index in slots:
            if index >= 1 and task.videos[index] not in out:
                out[task.videos[index]] = kind
                slots.remove((task, index))
                break
    return out


def _corrupt_bytes(seed: int) -> bytes:
    """An MP4 ``ftyp`` box followed by garbage: opens as MP4, decodes to nothing."""
    rng = np.random.default_rng(seed)
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return ftyp + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()


def _shift_cues(cues: tuple[Cue, ...], shift: float, duration: float) -> list[Cue]:
    """The subtitle cues moved by ``shift`` seconds (ASR timing offset), kept inside the video."""
    out = []
    for c in cues:
        start = min(max(0.0, c.start + shift), duration)
        end = min(max(start, c.end + shift), duration)
        if end > start:
            out.append(Cue(round(start, 3), round(end, 3), c.text))
    return out


def generate_videos(
    out: PathLike,
    settings: VideoSettings | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Write a folder of synthetic narrated videos (module docstring); resumable.

    Returns:
        The content of ``synth_videos.json``: settings, tasks, ``videos`` (per video: task,
        duration in seconds, steps present) and ``bad`` (``{video_id: "corrupt" | "empty" |
        "no-subtitles"}``).

    Raises:
        ValueError: ``out`` holds a folder generated with other settings.
    """
    from instructvid.video.decode import write_video

    settings = settings or VideoSettings()
    paths = video_layout(out)
    wanted = {"version": VIDEO_GENERATOR_VERSION, **dataclasses.asdict(settings)}
    if paths["marker"].is_file():
        old = json.loads(paths["marker"].read_text(encoding="utf-8"))
        theirs = {k: old.get("settings", {}).get(k) for k in wanted}
        if theirs != wanted:
            raise ValueError(
                f"{out} already holds synthetic videos made with {theirs}; asked for {wanted}. "
                "Use another folder."
            )
    world = _world(settings)
    bad = _bad_videos(world)
    write_task_cards(paths["tasks"], [t.task for t in world.tasks])
    write_video_list(
        paths["list"],
        [
            VideoEntry(t.task.task_id, v, f"https://www.youtube.com/watch?v={v}")
            for t in world.tasks
            for v in t.videos
        ],
    )
    for key in ("videos", "subtitles", "annotations"):
        paths[key].mkdir(parents=True, exist_ok=True)
    total = sum(len(t.videos) for t in world.tasks)
    done = 0
    described: dict[str, Any] = {}
    for task in world.tasks:
        for index, vid in enumerate(task.videos):
            plan = plan_video(world, task, index)
            described[vid] = _write_one(
                paths, task, index, plan, settings, bad.get(vid), write_video
            )
            done += 1
            if progress is not None:
                progress(done, total)
    summary = {
        "settings": wanted,
        "tasks": {t.task.task_id: t.task.title for t in world.tasks},
        "components": sorted(
            {c for t in world.tasks for s in t.task.steps for c in vocab.components(s)}
        ),
        "bad": bad,
        "videos": described,
    }
    atomic_write_json(paths["marker"], summary)
    return summary


def _write_one(
    paths: dict[str, Path],
    task: WorldTask,
    index: int,
    plan: VideoPlan,
    settings: VideoSettings,
    kind: str | None,
    write_video: Any,
) -> dict[str, Any]:
    vid, task_id = plan.video_id, task.task.task_id
    video = paths["videos"] / f"{vid}.mp4"
    subtitle = paths["subtitles"] / f"{vid}.vtt"
    annotation = paths["annotations"] / f"{task_id}_{vid}.csv"
    seed = np.random.SeedSequence(settings.seed, spawn_key=(8, task.index, index))
    info = {
        "task": task_id,
        "duration": round(plan.duration, 3),
        "steps": [s.step for s in plan.segments],
        "kind": kind or "ok",
    }
    if kind == "corrupt":
        if not video.is_file():
            with atomic_open(video, "wb") as handle:
                handle.write(_corrupt_bytes(settings.seed))
    elif kind == "empty":
        if not video.is_file():
            with atomic_open(video, "wb"):
                pass
    else:
        if not annotation.is_file():
            write_segments(annotation, plan.segments)
        if kind != "no-subtitles" and not subtitle.is_file():
            shift = float(np.random.default_rng(seed).uniform(-1.0, 1.0))
            write_webvtt(subtitle, _shift_cues(plan.cues, shift, plan.duration))
        if not video.is_file():
            frames = render_video(
                plan,
                task.task.steps,
                size=settings.size,
                fps=settings.fps,
                noise=settings.noise,
                seed=seed,
            )
            write_video(video, frames, fps=settings.fps, crf=23)
    return info
