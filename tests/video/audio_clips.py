"""Media files with an audio track, made on the spot: a tone whose frequency changes each second."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def tones(freqs, rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    """(N,) float64: ``seconds`` of each frequency in turn (Hz), phase kept continuous."""
    step = round(rate * seconds)
    f = np.repeat(np.asarray(freqs, np.float64), step)
    phase = 2 * np.pi * np.cumsum(f) / rate
    return amplitude * np.sin(phase)


def mel_centres_hz(bands: int = 64, lo: float = 125.0, hi: float = 7500.0) -> np.ndarray:
    """The centres of VGGish's mel bands, from the HTK formula (written here independently)."""
    mel_lo, mel_hi = (2595.0 * np.log10(1 + f / 700.0) for f in (lo, hi))
    mels = mel_lo + (mel_hi - mel_lo) * np.arange(1, bands + 1) / (bands + 1)
    return 700.0 * (10 ** (mels / 2595.0) - 1)


def write_media(
    path: Path,
    wave: np.ndarray | None,
    *,
    rate: int = 48000,
    channels: int = 2,
    codec: str = "pcm_s16le",
    video_seconds: float | None = None,
    audio_start: float = 0.0,
) -> Path:
    """Write ``wave`` (mono, [-1, 1], at ``rate`` Hz; the same on every channel) as a media file.

    ``video_seconds``: also a 32 × 32 video stream of that length at 5 fps (``None``: none);
    ``wave=None``: no audio stream. ``audio_start``: the audio's first timestamp, s.
    """
    import av

    container = av.open(str(path), "w")
    video = None
    if video_seconds is not None:
        video = container.add_stream("libx264", rate=5)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
    audio = None
    if wave is not None:
        audio = container.add_stream(codec, rate=rate)
        audio.layout = "stereo" if channels == 2 else "mono"
    v_next, block = 0, 1024
    n_video = round((video_seconds or 0) * 5)
    first = round(audio_start * rate)
    n_audio = 0 if wave is None else -(-len(wave) // block)

    def mux_video_until(t: float) -> None:
        nonlocal v_next
        while video is not None and v_next < n_video and v_next / 5 <= t:
            img = np.full((32, 32, 3), (v_next * 7) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = v_next
            for packet in video.encode(frame):
                container.mux(packet)
            v_next += 1

    for i in range(n_audio):
        part = wave[i * block : (i + 1) * block]
        mux_video_until((first + i * block) / rate)
        if codec.startswith("pcm_s16"):
            ints = np.round(np.clip(part, -1, 1) * 32767).astype(np.int16)
            data = np.repeat(ints, channels)[None, :]  # packed, interleaved
            frame = av.AudioFrame.from_ndarray(data, format="s16", layout=audio.layout.name)
        else:
            data = np.repeat(part[None, :].astype(np.float32), channels, axis=0)
            frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=audio.layout.name)
        frame.sample_rate, frame.pts = rate, first + i * block
        for packet in audio.encode(frame):
            container.mux(packet)
    mux_video_until(float("inf"))
    for stream in (video, audio):
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    container.close()
    return path
