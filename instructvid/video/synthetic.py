"""Short generated videos whose content is known: for tests, benchmarks and the demo.

- :func:`timestamp_image` draws a frame that carries its own time (centiseconds, 16 bits as
  black and white vertical bars) and :func:`read_timestamp` reads it back, so a decoder's
  choice of frames can be checked against the times the frames were made for.
- :func:`write_timed_video` encodes frames at given times (any, so variable frame rate too),
  optionally with a display rotation.
- :func:`scene_video` films a made-up scene (a random texture of smooth blobs, seed = the scene)
  with a slowly moving camera: frames of one scene look alike, two scenes look different.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from instructvid.types import PathLike

__all__ = [
    "TIMESTAMP_BITS",
    "read_timestamp",
    "scene_frames",
    "scene_video",
    "timestamp_image",
    "write_timed_video",
]

#: Bits of the time code: 2**16 centiseconds = 655 s.
TIMESTAMP_BITS = 16


def timestamp_image(time: float, width: int = 128, height: int = 48) -> np.ndarray:
    """An RGB (height, width, 3) uint8 frame showing ``round(time * 100)`` as 16 bars (MSB left)."""
    code = round(time * 100)
    if not 0 <= code < 2**TIMESTAMP_BITS:
        raise ValueError(f"time {time} s does not fit the {TIMESTAMP_BITS}-bit time code")
    bits = [(code >> (TIMESTAMP_BITS - 1 - i)) & 1 for i in range(TIMESTAMP_BITS)]
    columns = np.repeat(np.asarray(bits, np.uint8), -(-width // TIMESTAMP_BITS))[:width]
    img = np.where(columns[None, :, None] > 0, 235, 16).astype(np.uint8)
    return np.broadcast_to(img, (height, width, 3)).copy()


def read_timestamp(image: np.ndarray) -> float:
    """The time (s) drawn by :func:`timestamp_image` into ``image`` ((H, W[, 3]) uint8)."""
    img = np.asarray(image, np.float64)
    grey = img.mean(axis=2) if img.ndim == 3 else img
    profile = grey.mean(axis=0)
    edges = np.linspace(0, profile.size, TIMESTAMP_BITS + 1).round().astype(int)
    code = 0
    for a, b in itertools.pairwise(edges):
        inner = profile[a + (b - a) // 4 : b - (b - a) // 4] if b - a >= 4 else profile[a:b]
        code = code * 2 + int(inner.mean() > 125)
    return code / 100.0


def write_timed_video(
    path: PathLike,
    frames: Sequence[np.ndarray],
    times: Sequence[float],
    *,
    rotation: int = 0,
    codec: str = "libx264",
    crf: int = 12,
    container_format: str | None = None,
) -> Path:
    """Encode RGB frames ((H, W, 3) uint8, even H and W) shown at ``times`` seconds.

    Times are stored with millisecond precision and must increase. ``rotation`` (degrees
    counter-clockwise) is written as the stream's display matrix.
    """
    import av

    from instructvid.io.atomic import atomic_open

    if len(frames) != len(times) or not len(frames):
        raise ValueError("write_timed_video needs as many times as frames, at least one")
    ms = [round(t * 1000) for t in times]
    if any(b <= a for a, b in itertools.pairwise(ms)):
        raise ValueError("frame times must increase (by at least 1 ms)")
    h, w = frames[0].shape[:2]
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        fmt = container_format or {".mkv": "matroska", ".ts": "mpegts"}.get(path.suffix, "mp4")
        container = av.open(handle, mode="w", format=fmt)
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        if rotation:
            stream.set_display_rotation(rotation)
        for rgb, pts in zip(frames, ms, strict=True):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, np.uint8), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        container.close()
    return path


def _texture(seed: int, height: int, width: int) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.random((max(2, height // 16), max(2, width // 16), 3)).astype(np.float32)
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    palette = rng.random((3, 3)).astype(np.float32)
    return np.clip(big @ palette / palette.sum(0) * 255, 0, 255).astype(np.uint8)


def scene_frames(
    seed: int, n: int, *, width: int = 160, height: int = 96, speed: float = 1.0
) -> list[np.ndarray]:
    """``n`` RGB frames of scene ``seed`` seen by a camera panning ``speed`` pixels per frame."""
    pad = int(np.ceil(speed * n)) + 1
    world = _texture(seed, height, width + pad)
    return [world[:, int(i * speed) : int(i * speed) + width].copy() for i in range(n)]


def scene_video(
    path: PathLike,
    seed: int,
    seconds: float,
    *,
    fps: float = 10.0,
    width: int = 160,
    height: int = 96,
) -> Path:
    """A ``seconds`` s video at ``fps`` of scene ``seed`` (see :func:`scene_frames`)."""
    n = max(1, round(seconds * fps))
    frames = scene_frames(seed, n, width=width, height=height)
    return write_timed_video(path, frames, [i / fps for i in range(n)])
