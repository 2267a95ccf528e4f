"""Decoding (PyAV), frame names, undecodable videos and frame sampling."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.video.decode import (
    VideoDecodeError,
    frame_name,
    iter_frames,
    list_images,
    probe_video,
    read_frames,
    write_video,
)
from instructvid.video.sampling import sample_frames, sample_indices, sharpness


def _frames(n=12, h=64, w=96, blur_every=None):
    import cv2

    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        img = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        img[:, :, 0] = i * 20  # frame index readable from the red channel
        if blur_every and i % blur_every:
            img = cv2.GaussianBlur(img, (0, 0), 3)
            img[:, :, 0] = i * 20
        out.append(img)
    return out


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("v") / "clip.mp4", _frames(), fps=10.0)


def test_probe_and_read(video):
    info = probe_video(video)
    assert info.n_frames == 12 and (info.width, info.height) == (96, 64)
    np.testing.assert_allclose(info.times, np.arange(12) / 10.0, atol=1e-6)
    got = read_frames(video, [7, 2])
    assert [g[0] for g in got] == [2, 7]
    assert abs(got[1][1] - 0.7) < 1e-6 and got[1][2].shape == (64, 96, 3)
    assert abs(int(got[1][2][:, :, 0].mean()) - 140) < 12  # lossy codec, red = 7 * 20
    assert len(list(iter_frames(video))) == 12
    with pytest.raises(VideoDecodeError):
        read_frames(video, [40])


def test_frame_name():
    assert frame_name(123.45) == "t000123.450.jpg"
    assert frame_name(0.0, ".png") == "t000000.000.png"
    with pytest.raises(ValueError):
        frame_name(-1)


def test_undecodable_video_names_the_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    with pytest.raises(VideoDecodeError, match=r"broken\.mp4"):
        probe_video(bad)
    with pytest.raises(VideoDecodeError, match=r"missing\.mp4"):
        list(iter_frames(tmp_path / "missing.mp4"))
    audio_only = tmp_path / "empty.mp4"
    audio_only.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match=r"empty\.mp4"):
        probe_video(audio_only)


def test_sampling_strategies(video):
    a = sample_indices(100, 10, seed=3)
    assert len(set(a)) == 10 and (np.diff(a) > 0).all()
    np.testing.assert_array_equal(a, sample_indices(100, 10, seed=3))
    assert not np.array_equal(a, sample_indices(100, 10, seed=4))
    np.testing.assert_array_equal(sample_indices(10, 4, method="uniform"), [0, 3, 6, 9])
    np.testing.assert_array_equal(sample_indices(3, 10), [0, 1, 2])
    scores = np.zeros(12)
    scores[[1, 5, 10]] = 1.0
    np.testing.assert_array_equal(sample_indices(12, 3, method="sharp", scores=scores), [1, 5, 10])
    with pytest.raises(ValueError):
        sample_indices(10, 0)
    with pytest.raises(ValueError):
        sample_indices(10, 3, method="sharp")
    with pytest.raises(ValueError):
        sample_indices(10, 3, method="best")
    assert [f[0] for f in sample_frames(video, 3, method="uniform")] == [0, 6, 11]
    assert len(sample_frames(video, 4, seed=1)) == 4


def test_sharp_sampling_prefers_sharp_frames(tmp_path):
    clip = write_video(tmp_path / "blur.mp4", _frames(12, blur_every=4), fps=10.0)
    picked = [f[0] for f in sample_frames(clip, 3, method="sharp")]
    assert picked == [0, 4, 8]
    assert sharpness(_frames(1)[0]) > sharpness(np.full((10, 10, 3), 7, np.uint8))


def test_list_images(tmp_path):
    for n in ("b.PNG", "a.jpg", "c.txt", "d.jpeg"):
        (tmp_path / n).write_bytes(b"x")
    assert list_images(tmp_path) == ["a.jpg", "b.PNG", "d.jpeg"]
    with pytest.raises(FileNotFoundError):
        list_images(tmp_path / "nope")
