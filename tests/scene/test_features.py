"""Local feature extractors: SIFT (pycolmap) and a user's TorchScript model, and the .npz store."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from instructvid.scene.features import FeatureSet, load_features, make_extractor, save_features


class _GridExtractor(torch.nn.Module):
    """A toy learned extractor: keypoints on a grid, 5 x 5 patches as descriptors."""

    def forward(self, image: torch.Tensor):
        h, w = image.shape[-2], image.shape[-1]
        ys = torch.arange(8, h - 8, 16)
        xs = torch.arange(8, w - 8, 16)
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        kp = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
        patches = torch.nn.functional.unfold(image, 5, padding=2)[0].T  # (H*W, 25)
        desc = patches[kp[:, 1] * w + kp[:, 0]] + 1e-3
        return kp.float() + 0.5, desc


def _image(seed=0):
    rng = np.random.default_rng(seed)
    import cv2

    return cv2.resize(
        (rng.random((24, 32)) * 255).astype(np.uint8), (320, 240), interpolation=cv2.INTER_CUBIC
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_learned_extractor_plugs_in(tmp_path):
    path = tmp_path / "grid.pt"
    torch.jit.script(_GridExtractor()).save(str(path))
    ext = make_extractor(f"torchscript:{path}")
    kp, desc = ext(_image())
    assert kp.shape == (len(desc), 2) and desc.shape[1] == 25
    np.testing.assert_allclose(np.linalg.norm(desc, axis=1), 1.0, atol=1e-5)
    exported = tmp_path / "grid.pt2"
    example = torch.rand(1, 1, 240, 320)
    torch.export.save(torch.export.export(_GridExtractor(), (example,)), str(exported))
    kp2, desc2 = make_extractor(f"torch:{exported}")(_image())
    np.testing.assert_allclose(kp2, kp)
    np.testing.assert_allclose(desc2, desc, atol=1e-6)
    with pytest.raises(FileNotFoundError):
        make_extractor(f"torchscript:{tmp_path / 'missing.pt'}")
    with pytest.raises(ValueError):
        make_extractor("r2d2")


def test_sift_and_feature_store(tmp_path):
    pytest.importorskip("pycolmap")
    ext = make_extractor("sift", max_features=300)
    kp, desc = ext(_image(1))
    assert 50 < len(kp) <= 300 and desc.shape == (len(kp), 128)
    assert (kp >= 0).all() and (kp[:, 0] <= 320).all() and (kp[:, 1] <= 240).all()
    with pytest.raises(ValueError):
        ext(np.zeros((10, 10, 3), np.uint8))
    path = save_features(tmp_path / "f.npz", FeatureSet({"a.jpg": kp}, {"a.jpg": desc}))
    back = load_features(path)
    assert back.names == ["a.jpg"]
    np.testing.assert_array_equal(back.keypoints["a.jpg"], kp)
    np.testing.assert_allclose(back.descriptors["a.jpg"], desc, atol=1e-3)
