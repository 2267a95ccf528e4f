"""How the synthetic narrated videos look (:mod:`instructvid.synth.videos`): a glyph per word
(:func:`glyph`), step frames composed of their words' glyphs on a table, background scenes,
and a planned video drawn frame by frame (:func:`render_video`)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from instructvid.synth.crosstask import vocabulary as vocab
from instructvid.synth.crosstask.plan import VideoPlan
from instructvid.synth.crosstask.spec import TOPICS

__all__ = ["Glyph", "glyph", "render_frame", "render_video"]

_SHAPES = ("disc", "square", "triangle", "diamond", "ring", "cross", "bar", "star")
_PATTERNS = ("solid", "stripes", "dots", "half")


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


def render_video(
    plan: VideoPlan, steps: tuple[str, ...], *, size: int, fps: float, noise: float, seed: Any
) -> list[np.ndarray]:
    """The frames of a planned video: (size, size, 3) uint8 RGB, ``fps`` per second, covering
    ``ceil(duration * fps)`` frames; ``seed`` seeds the per-video looks and the noise."""
    rng = np.random.default_rng(seed)
    tint = rng.normal(0, 12, 3) + rng.normal(0, 8)
    table = _table(size, tint)
    grounds: dict[int, np.ndarray] = {}
    looks: dict[int, _StepLook] = {}
    frames = []
    n_frames = max(1, math.ceil(plan.duration * fps))
    index = 0
    for f in range(n_frames):
        t = f / fps
        while index < len(plan.intervals) - 1 and t >= plan.intervals[index].end:
            index += 1
        iv = plan.intervals[index]
        if iv.step >= 0:
            if index not in looks:
                looks[index] = _step_look(steps[iv.step], size, rng)
            frames.append(render_frame(looks[index], table, t, size, noise, rng))
        else:
            if index not in grounds:
                grounds[index] = _background(iv.topic, size, tint, rng)
            frames.append(render_frame(None, grounds[index], t, size, noise, rng))
    return frames
