"""Video decoding (PyAV) and folders of frames.

A frame is an RGB ``uint8`` array of shape (H, W, 3) with its time in seconds (its presentation
timestamp). Decoding is sequential: selected frames are kept while the stream is decoded once,
which works for every container and codec PyAV reads, without relying on seeking.

A video that cannot be opened or decoded raises :class:`VideoDecodeError` naming the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructvid.types import PathLike

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "PacketReader",
    "VideoDecodeError",
    "VideoInfo",
    "frame_name",
    "iter_frames",
    "list_images",
    "probe_video",
    "read_frames",
    "write_video",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ts")


class PacketReader:
    """The packets of one stream and their frames, read past damage: a container that ends
    mid-packet (a cut file) ends the packets, a corrupt packet decodes to no frame; both are
    remembered (``stop_reason``: the first, ``bad``: corrupt packets skipped) for the caller's
    error or warning."""

    def __init__(self, container, stream) -> None:
        self._container, self._stream = container, stream
        self.bad = 0
        self.stop_reason: str | None = None

    def packets(self) -> Iterator:
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except Exception as exc:  # the container ends mid-packet
                self.stop_reason = f"reading stopped: {exc}"
                return
            yield packet

    def decode(self, packet) -> list:
        """The frames of ``packet`` (none when it is corrupt: counted, decoding goes on)."""
        try:
            return packet.decode()
        except Exception as exc:
            self.bad += 1
            self.stop_reason = self.stop_reason or f"undecodable data: {exc}"
            return []


class VideoDecodeError(ValueError):
    """A video file cannot be opened or decoded; the message names the file."""


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds: ``n_frames`` decodable frames and their times (seconds)."""

    path: Path
    n_frames: int
    times: np.ndarray  # (n_frames,) float64, seconds, increasing
    width: int
    height: int

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if self.n_frames else 0.0


def frame_name(time: float, ext: str = ".jpg") -> str:
    """The image name of a video frame at ``time`` seconds: ``t000123.450.jpg``."""
    if time < 0:
        raise ValueError(f"frame time must be >= 0, got {time}")
    return f"t{time:010.3f}{ext}"


def list_images(folder: PathLike) -> list[str]:
    """Sorted file names of the JPEG/PNG images directly inside ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder of images: {folder}")
    return sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def _open(path: Path):
    import av

    if not path.is_file():
        raise VideoDecodeError(f"video file not found: {path}")
    try:
        container = av.open(str(path))
    except Exception as exc:  # PyAV raises several error types (InvalidDataError, OSError…)
        raise VideoDecodeError(f"cannot open video {path}: {exc}") from None
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(f"no video stream in {path}")
    return container


def _decoded(path: Path) -> Iterator[tuple[int, float, object]]:
    """Yield ``(index, time_s, av.VideoFrame)`` for every decodable frame."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 25)
        index = 0
        try:
            for frame in container.decode(stream):
                time = float(frame.time) if frame.time is not None else index / rate
                yield index, max(time, 0.0), frame
                index += 1
        except Exception as exc:  # corrupt packets and codec errors come as several types
            raise VideoDecodeError(
                f"cannot decode video {path} (after {index} frames): {exc}"
            ) from None
        if index == 0:
            raise VideoDecodeError(f"no decodable frame in video {path}")
    finally:
        container.close()


def iter_frames(path: PathLike) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield ``(index, time_s, rgb (H, W, 3) uint8)`` for every decodable frame of a video."""
    for index, time, frame in _decoded(Path(path)):
        yield index, time, frame.to_ndarray(format="rgb24")


def probe_video(path: PathLike) -> VideoInfo:
    """Count the frames of a video and read their times (decodes the stream once)."""
    times, width, height = [], 0, 0
    for _, time, frame in _decoded(Path(path)):
        times.append(time)
        width, height = frame.width, frame.height
    return VideoInfo(Path(path), len(times), np.asarray(times, np.float64), width, height)


def read_frames(path: PathLike, indices: Iterable[int]) -> list[tuple[int, float, np.ndarray]]:
    """Decode the frames at ``indices`` (0-based decode order): ``[(index, time_s, rgb)]``."""
    wanted = sorted(set(int(i) for i in indices))
    if not wanted:
        return []
    if wanted[0] < 0:
        raise ValueError(f"frame indices must be >= 0, got {wanted[0]}")
    out, want = [], set(wanted)
    for index, time, rgb in iter_frames(path):
        if index in want:
            out.append((index, time, rgb))
        if index >= wanted[-1]:
            break
    if len(out) != len(wanted):
        raise VideoDecodeError(f"video {path} has fewer frames than index {wanted[-1]}")
    return out


def write_video(
    path: PathLike,
    frames: Sequence[np.ndarray],
    *,
    fps: float = 25.0,
    codec: str = "libx264",
    crf: int = 18,
) -> Path:
    """Encode RGB frames (each (H, W, 3) uint8, even H and W for H.264) into a video file."""
    from fractions import Fraction

    import av

    from instructvid.io.atomic import atomic_open

    if not frames:
        raise ValueError("write_video needs at least one frame")
    h, w = frames[0].shape[:2]
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        container = av.open(handle, mode="w", format=path.suffix.lstrip(".") or "mp4")
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf)}
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        container.close()
    return path
