"""The hands cue: anchors and coordinates of the palm detector, and clear refusals."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from instructvid.video.cues import make_cue
from instructvid.video.hands import INPUT, decode_best, letterbox, palm_anchors


def test_anchor_layout_matches_the_detector():
    a = palm_anchors()
    assert a.shape == (2016, 2)
    np.testing.assert_allclose(a[0], a[1])  # two anchors per cell on the stride-8 grid
    np.testing.assert_allclose(a[0], [0.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(a[2], [1.5 / 24, 0.5 / 24])  # row-major: x moves first
    np.testing.assert_allclose(a[1152:1158], [[0.5 / 12, 0.5 / 12]] * 6)  # six on stride 16
    np.testing.assert_allclose(a[-1], [11.5 / 12, 11.5 / 12])


def test_best_box_and_letterbox_coordinates():
    rng = np.random.default_rng(0)
    reg = rng.normal(size=(2016, 18)) * 5
    logits = rng.normal(size=(2016, 1))
    logits[700] = 9.0
    score, x, y = decode_best(reg, logits, palm_anchors())
    assert score == pytest.approx(1 / (1 + np.exp(-9.0)))
    assert (x, y) == pytest.approx(tuple(palm_anchors()[700] + reg[700, :2] / INPUT))
    # a wide frame is centred with black bands above and below
    img = np.full((90, 160, 3), 255, np.uint8)
    tensor, scale, x0, y0 = letterbox(img)
    assert tensor.shape == (192, 192, 3) and scale == pytest.approx(1.2) and x0 == 0 and y0 == 42
    assert tensor[41].max() == 0 and tensor[42].min() == 1.0 and tensor[42 + 108].max() == 0


def test_hands_refused_with_what_to_provide(tmp_path):
    with pytest.raises(ValueError, match=r"palm detector model.*--weights.*mediapipe==0\.10\.14"):
        make_cue("hands")
    with pytest.raises(ValueError, match=r"nope\.tflite: palm detector model file not found"):
        make_cue("hands", weights=tmp_path / "nope.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(
        ValueError, match=r"junk\.tflite: not a TensorFlow Lite model|TensorFlow Lite runtime"
    ):
        make_cue("hands", weights=junk)


@pytest.mark.skipif(
    not os.environ.get("INSTRUCTVID_PALM_MODEL"),
    reason="set INSTRUCTVID_PALM_MODEL to palm_detection_full.tflite to run the real detector",
)
def test_real_palm_detector_on_a_video(tmp_path):
    from instructvid.video.synthetic import scene_video

    cue = make_cue("hands", weights=Path(os.environ["INSTRUCTVID_PALM_MODEL"]))
    result = cue(scene_video(tmp_path / "v.mp4", 1, 3.0), 1.0)
    assert result.values.shape == (3, 3) and result.values.dtype == np.float32
    assert ((result.values >= 0) & (result.values <= 1)).all()
    assert result.values[:, 0].max() < 0.5  # a texture without hands
