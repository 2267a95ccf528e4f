"""The audio of a video file, streamed, and VGGish's log-mel front end (numpy).

Decoding (:class:`AudioStream`) is one pass over the first audio stream with PyAV: every decoded
frame goes through FFmpeg's resampler (``av.AudioResampler``) to ``rate`` Hz float32, its
channels are averaged to mono (as VGGish's ``waveform_to_examples`` does), and the samples leave
in chunks of at most ``chunk_samples``: a 2-hour 48 kHz stereo file is never held whole.
Sample 0 is the start of the video stream (the audio stream's start when there is no video):
audio that starts later is preceded by silence, audio that starts earlier is cut.

The front end is VGGish's (Hershey et al. 2017; the AudioSet release's ``vggish_params``,
``mel_features`` and ``vggish_input``), written again with numpy: 16 kHz mono; frames of 25 ms
(400 samples) every 10 ms (160 samples), no padding, a periodic Hann window, FFT of 512 points,
magnitude (not power); 64 triangular mel bands between 125 and 7500 Hz on the HTK mel scale
(``1127 ln(1 + f / 700)``), the band edges evenly spaced in mel and the DC bin left out;
``log(mel + 0.01)``; examples of 96 frames (0.96 s) × 64 bands. The release resamples with
``resampy``; here FFmpeg's resampler does it (the same band-limited kind, not bit-identical).

Rows: the release cuts examples every 0.96 s; here example ``t`` starts at frame
``round(t / fps / 0.01)``, i.e. at ``t / fps`` seconds (to 5 ms), so that row ``t`` of the audio
is second ``t`` of the video at ``fps = 1``. Row ``t`` exists when the audio covers at least the
first half of its 0.96 s (:func:`n_rows`); the rest of a last, short example is silence. A
10 s track gives 10 rows, a 9.5 s one 10 rows, a 9.4 s one 9.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from instructvid.types import PathLike
from instructvid.video.decode import PacketReader, VideoDecodeError

__all__ = [
    "EXAMPLE_FRAMES",
    "MEL_BANDS",
    "SAMPLE_RATE",
    "AudioDecodeError",
    "AudioStream",
    "band_edges_hz",
    "decode_audio",
    "example_starts",
    "examples",
    "hertz_to_mel",
    "log_mel",
    "mel_matrix",
    "n_rows",
    "stream_examples",
]

SAMPLE_RATE = 16000  # Hz
WINDOW_SECONDS = 0.025
HOP_SECONDS = 0.010
MEL_BANDS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96  # 0.96 s of 10 ms frames


class AudioDecodeError(VideoDecodeError):
    """The audio of a file cannot be read; the message names the file."""


# ---------------------------------------------------------------- front end (numpy)


def hertz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: ``1127 ln(1 + hz / 700)`` (elementwise)."""
    return 1127.0 * np.log1p(np.asarray(hz, np.float64) / 700.0)


def band_edges_hz(bands: int = MEL_BANDS, lo: float = MEL_MIN_HZ, hi: float = MEL_MAX_HZ):
    """(bands + 2,) Hz: lower edge, the ``bands`` centres, upper edge, evenly spaced in mel."""
    mel = np.linspace(hertz_to_mel(lo), hertz_to_mel(hi), bands + 2)
    return 700.0 * np.expm1(mel / 1127.0)


def mel_matrix(
    n_bins: int, rate: int = SAMPLE_RATE, bands: int = MEL_BANDS,
    lo: float = MEL_MIN_HZ, hi: float = MEL_MAX_HZ,
) -> np.ndarray:  # fmt: skip
    """(n_bins, bands) weights taking STFT magnitudes (bins 0 … rate / 2 Hz) to mel bands.

    Band ``i`` is a triangle in mel, 0 at edges ``i`` and ``i + 2`` of :func:`band_edges_hz`,
    1 at its centre ``i + 1``; the DC bin has weight 0 (as HTK).
    """
    if not 0.0 <= lo < hi <= rate / 2:
        raise ValueError(f"mel bands need 0 <= lo < hi <= rate / 2, got {lo}, {hi}, {rate}")
    bins_mel = hertz_to_mel(np.linspace(0.0, rate / 2, n_bins))[:, None]
    edges = hertz_to_mel(band_edges_hz(bands, lo, hi))
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel - lower) / (centre - lower)
    falling = (upper - bins_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0] = 0.0
    return weights


def _frame_sizes(rate: int) -> tuple[int, int, int]:
    """(window, hop, fft) in samples at ``rate`` Hz: 25 ms, 10 ms, the next power of two."""
    window = round(rate * WINDOW_SECONDS)
    hop = round(rate * HOP_SECONDS)
    return window, hop, 1 << math.ceil(math.log2(window))


def log_mel(wave: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """VGGish's log-mel spectrogram of a mono waveform.

    Args:
        wave: (N,) samples, nominally in [-1, 1], at ``rate`` Hz.
        rate: samples per second.

    Returns:
        (F, 64) float32, ``F = 1 + (N - window) // hop`` frames (0 when ``N < window``); frame
        ``k`` covers samples ``k·hop … k·hop + window`` (window 25 ms, hop 10 ms).
    """
    wave = np.asarray(wave, np.float64)
    if wave.ndim != 1:
        raise ValueError(f"expected a mono waveform (N,), got shape {wave.shape}")
    window, hop, fft = _frame_sizes(rate)
    if len(wave) < window:
        return np.zeros((0, MEL_BANDS), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(wave, window)[::hop]
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(window) / window)  # periodic
    magnitude = np.abs(np.fft.rfft(frames * hann, fft))
    mel = magnitude @ mel_matrix(magnitude.shape[1], rate)
    return np.log(mel + LOG_OFFSET).astype(np.float32)


def example_starts(rows: int, fps: float = 1.0, rate: int = SAMPLE_RATE) -> np.ndarray:
    """(rows,) int64: the first frame of example ``t`` = ``round(t / fps / hop_seconds)``."""
    _check_fps(fps)
    _, hop, _ = _frame_sizes(rate)
    return np.rint(np.arange(rows) / fps * rate / hop).astype(np.int64)


def _start(t: int, fps: float, hop: int, rate: int) -> int:
    """:func:`example_starts` of one row (the same float operations, so the same value)."""
    return round(t / fps * rate / hop)


def _check_fps(fps: float) -> None:
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps}")


def n_rows(samples: int, fps: float = 1.0, rate: int = SAMPLE_RATE) -> int:
    """Rows of a track of ``samples`` samples: the ``t`` whose example's first half is audio."""
    _check_fps(fps)
    _, hop, _ = _frame_sizes(rate)
    half = EXAMPLE_FRAMES // 2 * hop

    def valid(t: int) -> bool:
        return _start(t, fps, hop, rate) * hop + half <= samples

    t = max(0, int((samples - half) / rate * fps))  # an estimate: move to the first invalid row
    while valid(t):
        t += 1
    while t > 0 and not valid(t - 1):
        t -= 1
    return t


def examples(frames: np.ndarray, fps: float = 1.0, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The complete examples of a log-mel spectrogram, example ``t`` starting at ``t / fps`` s.

    Args:
        frames: (F, 64) log-mel frames (:func:`log_mel`), 10 ms apart.
        fps: examples per second.
        rate: the sample rate the frames were computed at (fixes the hop).

    Returns:
        (N, 96, 64) float32: every example whose 96 frames are all in ``frames``.
    """
    frames = np.asarray(frames, np.float32)
    _, hop, _ = _frame_sizes(rate)
    count = int(len(frames) * hop / rate * fps) + 2
    starts = example_starts(count, fps, rate)
    starts = starts[starts + EXAMPLE_FRAMES <= len(frames)]
    out = np.zeros((len(starts), EXAMPLE_FRAMES, frames.shape[1]), np.float32)
    for i, s in enumerate(starts):
        out[i] = frames[s : s + EXAMPLE_FRAMES]
    return out


def stream_examples(
    chunks: Iterable[np.ndarray], fps: float = 1.0, rate: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Examples (96, 64) float32 of a waveform given in chunks, in order, in bounded memory.

    The same rows as ``examples(log_mel(padded), fps)`` on the whole waveform ``padded`` with
    silence after its end, for ``n_rows(len(wave), fps)`` rows; only the samples and frames not
    yet used are kept (less than one chunk plus one example).
    """
    _check_fps(fps)
    window, hop, _ = _frame_sizes(rate)
    wave = np.zeros(0, np.float64)  # samples from frame `next_frame` on
    next_frame, total = 0, 0
    mel = np.zeros((0, MEL_BANDS), np.float32)  # frames from `mel_start` on
    mel_start, row = 0, 0

    def take(chunk: np.ndarray, limit: int | None) -> Iterator[np.ndarray]:
        nonlocal wave, next_frame, mel, mel_start, row
        wave = np.concatenate([wave, chunk])
        n = 0 if len(wave) < window else 1 + (len(wave) - window) // hop
        if n:
            mel = np.concatenate([mel, log_mel(wave[: (n - 1) * hop + window], rate)])
            wave, next_frame = wave[n * hop :], next_frame + n
        while limit is None or row < limit:
            start = _start(row, fps, hop, rate)
            if start + EXAMPLE_FRAMES > mel_start + len(mel):
                break
            yield mel[start - mel_start : start - mel_start + EXAMPLE_FRAMES].copy()
            row += 1
        keep_from = _start(row, fps, hop, rate)
        drop = min(max(0, keep_from - mel_start), len(mel))
        mel, mel_start = mel[drop:], mel_start + drop

    for chunk in chunks:
        chunk = np.asarray(chunk, np.float64).reshape(-1)
        total += len(chunk)
        yield from take(chunk, None)
    rows = n_rows(total, fps, rate)
    if row < rows:
        last = _start(rows - 1, fps, hop, rate)
        needed = (last + EXAMPLE_FRAMES - 1) * hop + window  # samples that frame needs
        yield from take(np.zeros(max(0, needed - total)), rows)


# ---------------------------------------------------------------- decoding (PyAV)


def _open_media(path: Path):
    import av

    if not path.is_file():
        raise AudioDecodeError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: empty file (0 bytes)")
    try:
        return av.open(str(path))
    except Exception as exc:  # InvalidDataError, EOFError, OSError…
        raise AudioDecodeError(
            f"{path}: not a media file that can be read (truncated or another format): {exc}"
        ) from None


def _start_seconds(stream) -> float | None:
    if stream.start_time is None or stream.time_base is None:
        return None
    return float(stream.start_time * stream.time_base)


def _stated_seconds(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


class AudioStream:
    """Iterate the audio of a media file as mono float32 chunks ``(n,)``, ``1 <= n <= chunk``.

    Args:
        path: a video (or audio) file.
        rate: output samples per second.
        chunk_samples: the largest chunk yielded (memory bound).

    A file without an audio stream yields nothing (``has_audio`` is then ``False``).
    After the iteration: ``samples`` (yielded), ``stated`` (the duration the file states, s, or
    ``None``), ``truncated`` and ``warning`` (why, or ``None``). A file that cannot be read is
    an :class:`AudioDecodeError` naming it; one that ends early keeps what decoded.
    """

    def __init__(
        self, path: PathLike, *, rate: int = SAMPLE_RATE, chunk_samples: int = 10 * SAMPLE_RATE
    ) -> None:
        if rate <= 0 or chunk_samples <= 0:
            raise ValueError(f"rate and chunk_samples must be > 0, got {rate}, {chunk_samples}")
        self.path = Path(path)
        self.rate = int(rate)
        self.chunk_samples = int(chunk_samples)
        self.has_audio: bool | None = None
        self.samples = 0
        self.stated: float | None = None
        self.truncated = False
        self.warning: str | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        container = _open_media(self.path)
        try:
            self.has_audio = bool(container.streams.audio)
            if self.has_audio:
                yield from self._chunks(self._samples(container))
        finally:
            container.close()

    def _chunks(self, pieces: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        held: list[np.ndarray] = []
        count = 0
        for piece in pieces:
            held.append(piece)
            count += len(piece)
            if count < self.chunk_samples:
                continue
            flat = np.concatenate(held)
            cut = len(flat) - len(flat) % self.chunk_samples
            for i in range(0, cut, self.chunk_samples):
                self.samples += self.chunk_samples
                yield flat[i : i + self.chunk_samples]
            held, count = [flat[cut:]], len(flat) - cut
        if count:
            self.samples += count
            yield np.concatenate(held)

    def _samples(self, container) -> Iterator[np.ndarray]:
        """Mono float32 pieces at ``rate`` Hz from the video's start (not yet chunked)."""
        import av

        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise AudioDecodeError(f"{self.path}: unsupported audio codec: no decoder for it")
        self.stated = _stated_seconds(container, stream)
        video = container.streams.video[0] if container.streams.video else None
        origin = _start_seconds(video) if video is not None else None
        if origin is None:
            origin = _start_seconds(stream) or 0.0
        resampler = av.AudioResampler(format="fltp", rate=self.rate)
        skip: int | None = None  # samples still to drop (audio before the origin)
        decoded = 0
        reader = PacketReader(container, stream)
        for packet in reader.packets():
            frames = reader.decode(packet)
            for frame in frames:
                if skip is None:
                    first = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
                    lead = round((first - origin) * self.rate)
                    skip = max(0, -lead)
                    for i in range(0, max(0, lead), self.chunk_samples):  # audio starts late
                        silence = np.zeros(min(self.chunk_samples, lead - i), np.float32)
                        decoded += len(silence)
                        yield silence
                for piece in self._mono(resampler.resample(frame)):
                    piece, skip = piece[skip:], max(0, skip - len(piece))
                    if len(piece):
                        decoded += len(piece)
                        yield piece
        if skip is not None:
            for piece in self._mono(resampler.resample(None)):
                piece, skip = piece[skip:], max(0, skip - len(piece))
                if len(piece):
                    decoded += len(piece)
                    yield piece
        elif reader.stop_reason:
            raise AudioDecodeError(f"{self.path}: no audio could be decoded ({reader.stop_reason})")
        self._check_end(decoded / self.rate, reader.bad, reader.stop_reason)

    @staticmethod
    def _mono(frames) -> Iterator[np.ndarray]:
        for frame in frames:
            planes = frame.to_ndarray()  # (channels, n) float32 (planar)
            yield planes.mean(axis=0, dtype=np.float32) if planes.shape[0] > 1 else planes[0]

    def _check_end(self, seconds: float, bad: int, stop_reason: str | None) -> None:
        gap = (self.stated or 0.0) - seconds
        if self.stated is not None and gap > max(1.0, 0.02 * self.stated):
            self.truncated = True
            self.warning = (
                f"{self.path}: truncated audio: samples end at {seconds:.1f} s of the "
                f"{self.stated:.1f} s the file states; the seconds before the cut are kept"
                + (f" ({stop_reason})" if stop_reason else "")
            )
        elif bad:
            self.warning = f"{self.path}: {bad} undecodable audio packets skipped ({stop_reason})"


def decode_audio(path: PathLike, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole audio track of ``path``: (N,) float32 mono at ``rate`` Hz ((0,) without audio).

    Holds the whole track: for long files iterate :class:`AudioStream` instead.
    """
    parts = list(AudioStream(path, rate=rate))
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)
