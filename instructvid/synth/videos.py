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
import hashlib
import json
import math
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
from instructvid.synth.crosstask.spec import SIZES, TOPICS
from instructvid.synth.crosstask.world import World, WorldTask, build_world
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

_SHAPES = ("disc", "square", "triangle", "diamond", "ring", "cross", "bar", "star")
_PATTERNS = ("solid", "stripes", "dots", "half")


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


@dataclass(frozen=True)
class Glyph:
    """How one component (word) looks: a shape, an RGB colour (0–255) and a fill pattern."""

    word: str
    shape: str
    color: tuple[int, int, int]
    pattern: str


def glyph(word: str) -> Glyph:
    """The glyph of a component, a function of the word alone (stable across runs and seeds)."""
    digest = hashlib.sha256(word.encode("utf-8")).digest()
    hue = digest[0] / 256.0
    sat = 0.55 + 0.45 * digest[1] / 255.0
    val = 0.55 + 0.45 * digest[2] / 255.0
    return Glyph(
        word=word,
        shape=_SHAPES[digest[3] % len(_SHAPES)],
        color=_hsv_to_rgb(hue, sat, val),
        pattern=_PATTERNS[digest[4] % len(_PATTERNS)],
    )


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return int(255 * r), int(255 * g), int(255 * b)


def _shape_mask(shape: str, n: int) -> np.ndarray:
    """(n, n) bool mask of a shape filling a square of ``n`` pixels."""
    y, x = np.mgrid[0:n, 0:n].astype(np.float64)
    u = (x + 0.5) / n * 2 - 1
    v = (y + 0.5) / n * 2 - 1
    r = np.hypot(u, v)
    if shape == "disc":
        return r <= 0.95
    if shape == "square":
        return (np.abs(u) <= 0.8) & (np.abs(v) <= 0.8)
    if shape == "triangle":
        return (v <= 0.85) & (v >= -0.9 + 1.75 * np.abs(u))
    if shape == "diamond":
        return np.abs(u) + np.abs(v) <= 0.95
    if shape == "ring":
        return (r <= 0.95) & (r >= 0.55)
    if shape == "cross":
        return (np.abs(u) <= 0.28) | (np.abs(v) <= 0.28)
    if shape == "bar":
        return (np.abs(v) <= 0.35) & (np.abs(u) <= 0.95)
    # star: five points
    angle = np.arctan2(v, u)
    return r <= 0.5 + 0.45 * np.cos(5 * angle) ** 2


def _pattern_mask(pattern: str, n: int) -> np.ndarray:
    y, x = np.mgrid[0:n, 0:n]
    step = max(2, n // 6)
    if pattern == "stripes":
        return ((x + y) // step) % 2 == 0
    if pattern == "dots":
        return ((x // step) + (y // step)) % 2 == 0
    if pattern == "half":
        return y < n // 2
    return np.ones((n, n), bool)


@dataclass(frozen=True)
class _StepLook:
    """How one step looks in one video: per component (glyph, centre x, y in [0, 1], size in
    pixels, phase of its motion) and a colour shift."""

    glyphs: tuple[tuple[Glyph, float, float, int, float], ...]
    shift: np.ndarray  # (3,) added to the glyph colours


def _step_look(step: str, size: int, rng: np.random.Generator) -> _StepLook:
    words = vocab.components(step)
    n = len(words)
    items = []
    for i, word in enumerate(words):
        cx = (i + 0.5) / n + rng.normal(0, 0.03)
        cy = 0.55 + (0.12 if i % 2 else -0.12) * (n > 2) + rng.normal(0, 0.04)
        px = int(size * min(0.42, 0.95 / n) * rng.uniform(0.85, 1.15))
        items.append((glyph(word), float(cx), float(cy), max(px, 6), float(rng.uniform(0, 6.3))))
    return _StepLook(tuple(items), rng.normal(0, 10, 3))


def _background(topic: int, size: int, tint: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A static background scene of a topic: two colours, a few large soft blobs."""
    digest = hashlib.sha256(f"topic:{TOPICS[topic]}".encode()).digest()
    base = np.array(_hsv_to_rgb(digest[0] / 256, 0.25 + 0.3 * digest[1] / 255, 0.5), float)
    blob = np.array(_hsv_to_rgb(digest[2] / 256, 0.4, 0.8), float)
    y, x = np.mgrid[0:size, 0:size] / size
    img = base + (x * (digest[3] / 255 - 0.5) + y * (digest[4] / 255 - 0.5))[..., None] * 80
    for _ in range(3):
        cx, cy, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.12, 0.3)
        weight = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        img = img * (1 - weight) + blob * weight
    return img + tint


def render_frame(
    look: _StepLook | None,
    ground: np.ndarray,
    time: float,
    size: int,
    noise: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """One RGB frame (size, size, 3) uint8: ``ground`` (float) with the step's glyphs drawn at
    ``time`` seconds (each moves on a small circle), plus pixel noise."""
    img = ground.copy()
    if look is not None:
        for g, cx, cy, px, phase in look.glyphs:
            wobble = 0.04 * size
            x0 = round(cx * size + wobble * math.cos(2.2 * time + phase) - px / 2)
            y0 = round(cy * size + wobble * math.sin(2.2 * time + phase) - px / 2)
            mask = _shape_mask(g.shape, px)
            fill = _pattern_mask(g.pattern, px)
            color = np.clip(np.array(g.color, float) + look.shift, 0, 255)
            dark = color * 0.45
            xs, ys = max(x0, 0), max(y0, 0)
            xe, ye = min(x0 + px, size), min(y0 + px, size)
            if xe <= xs or ye <= ys:
                continue
            m = mask[ys - y0 : ye - y0, xs - x0 : xe - x0]
            f = fill[ys - y0 : ye - y0, xs - x0 : xe - x0]
            patch = img[ys:ye, xs:xe]
            patch[m & f] = color
            patch[m & ~f] = dark
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _table(size: int, tint: np.ndarray) -> np.ndarray:
    """The ground of step frames: a wooden-table brown with a vertical grain, tinted."""
    x = np.arange(size) / size
    grain = 12 * np.sin(2 * np.pi * 7 * x)[None, :, None]
    return np.broadcast_to(np.array([150.0, 115.0, 80.0]) + tint + grain, (size, size, 3)).copy()


def render_video(plan: VideoPlan, steps: tuple[str, ...], settings: VideoSettings, seed: Any):
    """The frames of a planned video: a list of (size, size, 3) uint8 at ``settings.fps``."""
    rng = np.random.default_rng(seed)
    size = settings.size
    tint = rng.normal(0, 12, 3) + rng.normal(0, 8)
    table = _table(size, tint)
    grounds: dict[int, np.ndarray] = {}
    looks: dict[int, _StepLook] = {}
    frames = []
    n_frames = max(1, math.ceil(plan.duration * settings.fps))
    index = 0
    for f in range(n_frames):
        t = f / settings.fps
        while index < len(plan.intervals) - 1 and t >= plan.intervals[index].end:
            index += 1
        iv = plan.intervals[index]
        if iv.step >= 0:
            if index not in looks:
                looks[index] = _step_look(steps[iv.step], size, rng)
            frames.append(render_frame(looks[index], table, t, size, settings.noise, rng))
        else:
            if index not in grounds:
                grounds[index] = _background(iv.topic, size, tint, rng)
            frames.append(render_frame(None, grounds[index], t, size, settings.noise, rng))
    return frames


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
            frames = render_video(plan, task.task.steps, settings, seed)
            write_video(video, frames, fps=settings.fps, crf=23)
    return info
