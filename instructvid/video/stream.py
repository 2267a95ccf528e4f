"""Streamed decoding at a fixed rate: the frames of the seconds, without holding the video.

Row ``k`` of a video sampled at ``rate`` frames per second is the **first decoded frame whose
time is ≥ k / rate seconds**, for ``k = 0, 1, …`` as long as such a frame exists: at 1 fps a
10 s video gives rows 0 … 9 (⌈duration⌉ rows), and a missing tail repeats nothing (the rows end
where the frames end). A frame that covers several targets (a gap in a variable-frame-rate
stream) is the row of each of them. Times are presentation timestamps (exact rationals) counted
from the video stream's start time.

The stream is decoded once, packet by packet; only the kept frames are converted (to RGB or
grey) and resized, by the decoder's scaler straight from the decoded picture — never every frame
to full-size RGB — so memory does not grow with the length of the video. Rotation metadata (the
display matrix, e.g. a phone held upright) is applied to the kept frames: sizes and images are
in display orientation.

Problems are :class:`~instructvid.video.decode.VideoDecodeError` (a ``ValueError``) naming the
file: an empty file, a file that is not a video, no video stream, an unsupported codec, a
stream without a single frame. A file that ends early (cut during a download) is not an error
when some frames decoded: the rows decoded before the cut are returned and
:attr:`RateDecoder.truncated` says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from instructvid.types import PathLike
from instructvid.video.decode import PacketReader, VideoDecodeError

__all__ = ["RateDecoder", "StreamInfo", "probe", "rows_for_times"]

#: A frame size ``(width, height)`` in pixels, or a function of the display size giving it.
SizeSpec = tuple[int, int] | Callable[[int, int], tuple[int, int]] | None


def _rows_reached(time: Fraction, next_row: int, rate: Fraction) -> range:
    """The rows a frame at ``time`` s takes when rows before ``next_row`` are taken."""
    return range(next_row, math.floor(time * rate) + 1)


def rows_for_times(times: Sequence[float | Fraction], rate: float) -> np.ndarray:
    """Which frame each row takes, for frame times in decode order (the streamed rule).

    Args:
        times: (F,) frame times in seconds, in decode order (floats are read exactly).
        rate: rows per second (> 0).

    Returns:
        (T,) int64: row ``k`` = the index of the first frame with time ≥ k / rate; ``T`` = the
        number of targets ``k / rate`` ≤ the largest time.
    """
    rate_q = _rate_fraction(rate)
    out: list[int] = []
    for index, time in enumerate(times):
        out.extend(index for _ in _rows_reached(Fraction(time), len(out), rate_q))
    return np.asarray(out, np.int64)


def _rate_fraction(rate: float) -> Fraction:
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"frame rate must be a positive number, got {rate}")
    return Fraction(rate).limit_denominator(1000)


@dataclass(frozen=True)
class StreamInfo:
    """What a video's headers say (and its first frame, for the rotation).

    ``duration`` and ``frame_rate`` are ``None`` when the container does not state them;
    ``width``/``height`` are the display size (after rotation), ``rotation`` the display
    matrix's counter-clockwise angle in degrees (0, 90, 180, 270).
    """

    path: Path
    duration: float | None  # seconds
    frame_rate: float | None  # average frames per second
    width: int
    height: int
    codec: str
    rotation: int
    streams: list[dict] = field(default_factory=list)  # [{"index", "type", "codec", …}]

    def as_dict(self) -> dict:
        return {
            "path": str(self.path),
            "duration": self.duration,
            "frame_rate": self.frame_rate,
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
            "rotation": self.rotation,
            "streams": self.streams,
        }


def _open_video(path: Path):
    """``(container, stream)`` of the first video stream, or a VideoDecodeError saying why."""
    import av

    if not path.is_file():
        raise VideoDecodeError(f"{path}: video file not found")
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: empty file (0 bytes)")
    try:
        container = av.open(str(path))
    except Exception as exc:  # InvalidDataError, EOFError, OSError…
        raise VideoDecodeError(
            f"{path}: not a video file that can be read (truncated or another format): {exc}"
        ) from None
    if not container.streams.video:
        kinds = ", ".join(s.type for s in container.streams) or "none"
        container.close()
        raise VideoDecodeError(f"{path}: no video stream (streams found: {kinds})")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        tag = getattr(stream, "codec_tag", "") or "unknown"
        container.close()
        raise VideoDecodeError(
            f"{path}: unsupported video codec ({tag}): no decoder for it in this FFmpeg build"
        )
    return container, stream


def _stated_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _rotation(frame) -> int:
    angle = getattr(frame, "rotation", 0) or 0
    return round(angle / 90.0) % 4 * 90


def _stream_dicts(container) -> list[dict]:
    out = []
    for s in container.streams:
        entry: dict = {"index": s.index, "type": s.type}
        ctx = s.codec_context
        entry["codec"] = ctx.name if ctx is not None else None
        if s.type == "video" and ctx is not None:
            entry["width"], entry["height"] = ctx.width, ctx.height
            entry["frame_rate"] = float(s.average_rate) if s.average_rate else None
        elif s.type == "audio" and ctx is not None:
            entry["sample_rate"], entry["channels"] = ctx.sample_rate, ctx.channels
        out.append(entry)
    return out


def probe(path: PathLike) -> StreamInfo:
    """Read a video's headers (and decode its first frame for the rotation); no full decode."""
    path = Path(path)
    container, stream = _open_video(path)
    try:
        rotation = 0
        try:
            for frame in container.decode(stream):
                rotation = _rotation(frame)
                break
        except Exception:  # a first frame that does not decode: report the headers anyway
            pass
        w, h = stream.codec_context.width, stream.codec_context.height
        if rotation in (90, 270):
            w, h = h, w
        rate = float(stream.average_rate) if stream.average_rate else None
        return StreamInfo(
            path=path,
            duration=_stated_duration(container, stream),
            frame_rate=rate,
            width=w,
            height=h,
            codec=stream.codec_context.name,
            rotation=rotation,
            streams=_stream_dicts(container),
        )
    finally:
        container.close()


class RateDecoder:
    """Iterate ``(row, time_s, image)`` of a video at ``rate`` rows per second, streamed.

    Args:
        path: the video file.
        rate: rows per second (1.0 = one frame per second).
        size: ``(width, height)`` of the returned images in display orientation, a function of
            the display ``(width, height)`` giving it, or ``None`` for the full size.
        pixel_format: ``"rgb24"`` → (H, W, 3) uint8, ``"gray"`` → (H, W) uint8.
        skip_unneeded: let the codec skip the non-reference frames (which no other frame
            depends on) that come before the next row's time: they can never be a row, so the
            rows are the same, and ~40 % of an H.264 stream with B-frames is not decoded.

    After the iteration: ``rows`` (number of rows), ``duration`` (seconds: the stated duration,
    else the decoded one), ``truncated`` and ``warning`` (why, or ``None``), ``rotation``.
    Iterating raises :class:`VideoDecodeError` for a file that cannot be read at all.
    """

    def __init__(
        self,
        path: PathLike,
        *,
        rate: float = 1.0,
        size: SizeSpec = None,
        pixel_format: str = "rgb24",
        skip_unneeded: bool = True,
    ) -> None:
        if pixel_format not in ("rgb24", "gray"):
            raise ValueError(f"pixel_format must be 'rgb24' or 'gray', got {pixel_format!r}")
        self.path = Path(path)
        self.rate = _rate_fraction(rate)
        self.size = size
        self.pixel_format = pixel_format
        self.skip_unneeded = skip_unneeded
        self.rows = 0
        self.duration = 0.0
        self.truncated = False
        self.warning: str | None = None
        self.rotation = 0

    def _convert(self, frame, target: tuple[int, int] | None) -> np.ndarray:
        if target is None:
            img = frame.to_ndarray(format=self.pixel_format)
        else:
            w, h = target
            if self.rotation in (90, 270):
                w, h = h, w  # resize the coded picture, then turn it
            img = frame.to_ndarray(
                width=w, height=h, format=self.pixel_format, interpolation="AREA"
            )
        if self.rotation:
            img = np.ascontiguousarray(np.rot90(img, k=self.rotation // 90))
        return img

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        container, stream = _open_video(self.path)
        try:
            yield from self._run(container, stream)
        finally:
            container.close()

    def _run(self, container, stream) -> Iterator[tuple[int, float, np.ndarray]]:
        stream.thread_type = "AUTO"
        codec = stream.codec_context
        base = stream.time_base
        start = Fraction(stream.start_time) * base if stream.start_time is not None else 0
        avg = Fraction(stream.average_rate) if stream.average_rate else Fraction(25)
        stated = _stated_duration(container, stream)
        next_row, n_frames = 0, 0
        last = Fraction(0)
        target: tuple[int, int] | None = None
        reader = PacketReader(container, stream)
        for packet in reader.packets():
            if packet.pts is not None and base is not None:
                packet_time = Fraction(packet.pts) * base - start
                last = max(last, packet_time)
                if self.skip_unneeded:
                    # the next row's time only grows: a frame before it is never a row
                    want = "NONREF" if packet_time * self.rate < next_row else "DEFAULT"
                    if codec.skip_frame != want:
                        codec.skip_frame = want
            frames = reader.decode(packet)
            for frame in frames:
                if n_frames == 0:
                    self.rotation = _rotation(frame)
                    w, h = frame.width, frame.height
                    if self.rotation in (90, 270):
                        w, h = h, w
                    target = self.size(w, h) if callable(self.size) else self.size
                if frame.pts is not None and base is not None:
                    time = Fraction(frame.pts) * base - start
                else:
                    time = n_frames / avg
                n_frames += 1
                last = max(last, time)
                rows = _rows_reached(time, next_row, self.rate)
                if not rows:
                    continue
                image = self._convert(frame, target)
                for row in rows:
                    yield row, float(time), image
                next_row = self.rows = rows.stop
        if n_frames == 0:
            if reader.stop_reason:
                raise VideoDecodeError(
                    f"{self.path}: no frame could be decoded ({reader.stop_reason})"
                )
            raise VideoDecodeError(f"{self.path}: zero duration: the video stream holds no frame")
        decoded_end = float(last + 1 / avg)
        # some muxers state less than the frames span (variable frame rate in MP4): trust the frames
        self.duration = max(stated or 0.0, decoded_end)
        gap = (stated or 0.0) - decoded_end
        if stated is not None and gap > max(1.0, 0.02 * stated):
            self.truncated = True
            self.warning = (
                f"{self.path}: truncated: frames end at {decoded_end:.1f} s of the "
                f"{stated:.1f} s the file states; the seconds before the cut are kept"
                + (f" ({reader.stop_reason})" if reader.stop_reason else "")
            )
        elif reader.bad:
            self.warning = (
                f"{self.path}: {reader.bad} undecodable packets skipped ({reader.stop_reason})"
            )
