"""Audio decoding (streamed) and VGGish's log-mel front end, on media files made here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instructvid.video.audio import (
    AudioDecodeError,
    AudioStream,
    decode_audio,
    examples,
    log_mel,
    n_rows,
    stream_examples,
)
from tests.video import clips
from tests.video.audio_clips import mel_centres_hz, tones, write_media

CENTRES = mel_centres_hz()
# one band per second, spread over the range (indices of the 64 bands)
BANDS = [6, 20, 33, 47, 58]


def _strongest_band(example: np.ndarray) -> int:
    return int(np.argmax(example.mean(axis=0)))


@settings(max_examples=25, deadline=None)
@given(band=st.integers(8, 62), offset=st.floats(-0.2, 0.2))
def test_a_pure_tone_lights_the_band_nearest_its_frequency(band, offset):
    # a frequency a fifth of the way towards a neighbouring centre is still nearest `band`
    neighbour = CENTRES[band + 1] if offset > 0 else CENTRES[band - 1]
    f = CENTRES[band] + abs(offset) * (neighbour - CENTRES[band])
    frames = log_mel(tones([f], 16000, seconds=0.5))
    assert frames.shape == (1 + (8000 - 400) // 160, 64) and frames.dtype == np.float32
    assert set(np.argmax(frames, axis=1)) == {band}


def test_log_mel_of_silence_and_of_a_short_wave():
    assert np.allclose(log_mel(np.zeros(1600)), np.log(0.01))
    assert log_mel(np.zeros(399)).shape == (0, 64)
    assert log_mel(np.zeros(400)).shape == (1, 64)
    with pytest.raises(ValueError, match=r"mono waveform"):
        log_mel(np.zeros((2, 400)))


def test_rows_exist_when_half_their_example_is_audio():
    assert [n_rows(round(s * 16000)) for s in (0.47, 0.48, 1.47, 1.48, 9.4, 9.5, 10.0)] == [
        0, 1, 1, 2, 9, 10, 10,
    ]  # fmt: skip
    assert n_rows(10 * 16000, fps=2.0) == 20  # starts 0, 0.5 … 9.5 s


def _brute_examples(wave: np.ndarray, fps: float) -> np.ndarray:
    rows = n_rows(len(wave), fps)
    padded = np.concatenate([wave, np.zeros(20000)])  # silence after the end
    full = examples(log_mel(padded), fps)
    assert len(full) >= rows
    return full[:rows]


@settings(max_examples=30, deadline=None)
@given(
    seconds=st.floats(0.0, 4.0),
    fps=st.sampled_from([1.0, 2.0, 0.5, 1.3, 25.0]),
    cuts=st.lists(st.integers(1, 20000), min_size=0, max_size=8),
)
def test_streamed_examples_equal_the_whole_wave_computation(seconds, fps, cuts):
    rng = np.random.default_rng(len(cuts))
    wave = rng.uniform(-1, 1, round(seconds * 16000))
    bounds = sorted({min(c, len(wave)) for c in cuts})
    chunks = np.split(wave, bounds)
    got = list(stream_examples(chunks, fps))
    want = _brute_examples(wave, fps)
    assert len(got) == len(want) == n_rows(len(wave), fps)
    if got:
        np.testing.assert_allclose(np.stack(got), want, rtol=1e-5, atol=1e-5)


def test_streaming_holds_little_of_the_wave():
    """The first example leaves after a second of samples was read, not at the end."""
    read = []

    def seconds():
        for i in range(30):
            read.append(i)
            yield np.zeros(16000)

    stream = stream_examples(seconds(), fps=1.0)
    next(stream)
    assert len(read) <= 2
    assert 1 + sum(1 for _ in stream) == 30


@pytest.mark.parametrize(
    ("codec", "rate", "channels", "ext"),
    [("pcm_s16le", 48000, 2, "mkv"), ("aac", 44100, 1, "mkv"), ("aac", 48000, 2, "mp4")],
)
def test_tones_of_each_second_are_the_rows_of_each_second(tmp_path, codec, rate, channels, ext):
    freqs = CENTRES[BANDS]
    path = write_media(
        tmp_path / f"tones.{ext}", tones(freqs, rate), rate=rate, channels=channels, codec=codec,
        video_seconds=5.0,
    )  # fmt: skip
    stream = AudioStream(path)
    got = np.stack(list(stream_examples(stream, fps=1.0)))
    assert got.shape == (5, 96, 64) and stream.has_audio and stream.warning is None
    assert [_strongest_band(e) for e in got] == BANDS
    assert abs(stream.samples - 5 * 16000) < 0.03 * 16000


@pytest.mark.parametrize(("codec", "ext"), [("pcm_s16le", "mkv"), ("aac", "mp4")])
def test_a_click_at_one_second_is_sample_16000(tmp_path, codec, ext):
    """Sample 0 is the video's start: the encoder's priming samples do not shift the audio."""
    wave = np.zeros(3 * 48000)
    wave[48000 : 48000 + 480] = 0.8 * np.sin(2 * np.pi * 2000 * np.arange(480) / 48000)
    path = write_media(tmp_path / f"click.{ext}", wave, codec=codec, video_seconds=3.0)
    got = decode_audio(path)
    assert abs(int(np.argmax(np.abs(got) > 0.2)) - 16000) <= 16  # 1 ms
    assert len(got) == pytest.approx(3 * 16000, abs=0.01 * 16000)


def test_pcm_at_16_khz_decodes_to_its_samples(tmp_path):
    wave = tones([440.0, 880.0], 16000, amplitude=0.3)
    path = write_media(tmp_path / "a.mkv", wave, rate=16000, channels=1, video_seconds=2.0)
    got = decode_audio(path)
    assert got.dtype == np.float32 and got.shape == wave.shape
    np.testing.assert_allclose(got, np.round(wave * 32767) / 32768, atol=1e-4)


def test_audio_starting_late_is_preceded_by_silence(tmp_path):
    wave = tones([1000.0], 16000, amplitude=0.3)
    path = write_media(
        tmp_path / "late.mkv", wave, rate=16000, channels=1, video_seconds=3.0, audio_start=1.0
    )
    got = decode_audio(path)
    assert len(got) == pytest.approx(2 * 16000, abs=160)
    assert np.abs(got[:15000]).max() < 1e-3 and np.abs(got[17000:]).max() > 0.2


def test_chunks_stay_bounded_on_a_long_file(tmp_path):
    seconds = 60
    wave = tones(np.linspace(200, 4000, seconds), 48000, amplitude=0.2)
    path = write_media(tmp_path / "long.mkv", wave, rate=48000, channels=2)
    stream = AudioStream(path, chunk_samples=8000)
    sizes = [len(c) for c in stream]
    assert max(sizes) <= 8000 and min(sizes[:-1]) == 8000
    assert sum(sizes) == stream.samples and abs(stream.samples - seconds * 16000) < 200
    assert not stream.truncated


def test_a_video_without_audio_yields_nothing(tmp_path):
    path = write_media(tmp_path / "mute.mkv", None, video_seconds=2.0)
    stream = AudioStream(path)
    assert list(stream) == [] and stream.has_audio is False
    assert decode_audio(path).shape == (0,)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (clips.text_named_mp4, "not a media file that can be read"),
        (clips.empty, r"empty file \(0 bytes\)"),
    ],
)
def test_a_file_that_is_not_media_is_named(tmp_path, make, message):
    path = make(tmp_path / "bad.mp4")
    with pytest.raises(AudioDecodeError, match=message) as err:
        list(AudioStream(path))
    assert "bad.mp4" in str(err.value) and isinstance(err.value, ValueError)
    with pytest.raises(ValueError, match="file not found"):
        decode_audio(tmp_path / "missing.mkv")


def test_a_truncated_file_keeps_the_audio_before_the_cut(tmp_path):
    full = write_media(
        tmp_path / "full.mkv", tones(CENTRES[[10, 40] * 4], 16000), rate=16000, channels=1
    )
    data = full.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    stream = AudioStream(cut)
    got = list(stream_examples(stream, fps=1.0))
    assert 2 <= len(got) <= 5
    assert stream.truncated and "cut.mkv" in stream.warning and "truncated" in stream.warning
    assert [_strongest_band(e) for e in got[:2]] == [10, 40]


def test_the_release_smoke_test_sine_gives_the_published_log_mel(tmp_path):
    """VGGish's smoke test: 3 s of a 1 kHz sine at 44.1 kHz → 3 examples; its first frames' lowest
    bands as the TensorFlow front end printed them (torchvggish's weight-conversion notebook).
    The rest of the spectrum is leakage shaped by the resampler (resampy there, FFmpeg here)."""
    t = np.arange(0, 3, 1 / 44100)
    path = write_media(tmp_path / "sine.mkv", np.sin(2 * np.pi * 1000 * t), rate=44100, channels=1)
    got = np.stack(list(stream_examples(AudioStream(path))))
    assert got.shape == (3, 96, 64)
    published = np.array(
        [[-4.47297436, -4.29457354, -4.14940631], [-4.48589533, -4.28825497, -4.139964],
         [-4.46158065, -4.29329706, -4.14905953]]
    )  # fmt: skip
    np.testing.assert_allclose(got[0, :3, :3], published, atol=0.04)
    assert _strongest_band(got[0]) == int(np.argmin(np.abs(CENTRES - 1000)))
