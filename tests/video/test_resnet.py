"""The resnet152 slot (no real weights here): torchvision's layout, loading, refusals, frames."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from instructvid.video import resnet  # noqa: E402
from instructvid.video.extract import extract_features  # noqa: E402
from instructvid.video.features import make_extractor  # noqa: E402
from instructvid.video.weights import WeightsError  # noqa: E402
from tests.video import clips  # noqa: E402
from tests.video.nets import TINY_I3D, TINY_RESNET, FrameStamps, expected_stamps, save_state  # noqa: E402

#: Tensors of torchvision's resnet152-*.pth, as torchvision names and sizes them.
PUBLIC_TENSORS = {
    "conv1.weight": (64, 3, 7, 7),
    "bn1.running_mean": (64,),
    "layer1.0.conv1.weight": (64, 64, 1, 1),
    "layer1.0.downsample.0.weight": (256, 64, 1, 1),
    "layer1.0.downsample.1.running_var": (256,),
    "layer2.7.conv2.weight": (128, 128, 3, 3),
    "layer3.35.bn3.weight": (1024,),
    "layer4.0.downsample.0.weight": (2048, 1024, 1, 1),
    "layer4.2.conv3.weight": (2048, 512, 1, 1),
    "fc.weight": (1000, 2048),
    "fc.bias": (1000,),
}


def test_full_size_layout_is_torchvisions_resnet152():
    shapes = resnet.release_shapes()
    for key, shape in PUBLIC_TENSORS.items():
        assert shapes[key] == shape, key
    assert "layer3.36.conv1.weight" not in shapes and "layer1.1.downsample.0.weight" not in shapes
    model = resnet.ResNet(shapes)  # built from the shapes alone, no file
    assert sum(p.numel() for p in model.parameters()) == 60_192_808  # torchvision's figure
    assert model.dim == 2048 and [len(getattr(model, s)) for s in resnet.STAGES] == [3, 8, 36, 3]
    assert set(model.state_dict()) == set(shapes)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "resnet152-tiny.pth"
    return path, save_state(path, TINY_RESNET)


def test_tiny_weights_load_and_encode(tiny):
    path, state = tiny
    ext = make_extractor("resnet152", weights=path, device="cpu", batch=2)
    assert (ext.dim, ext.input_size) == (128, (224, 224))
    loaded = ext.model.state_dict()
    for key in ("conv1.weight", "layer2.1.bn2.running_var", "layer4.0.downsample.0.weight"):
        torch.testing.assert_close(loaded[key], state[key])
    assert int(loaded["bn1.num_batches_tracked"]) == 0  # the old files' missing counters
    frames = np.random.default_rng(0).integers(0, 256, (5, 60, 90, 3), dtype=np.uint8)
    out = ext(frames)
    assert out.shape == (5, 128) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_array_equal(
        out, make_extractor("resnet152", weights=path, device="cpu", batch=2)(frames)
    )
    np.testing.assert_allclose(ext(frames[3:4]), out[3:4], rtol=1e-4, atol=1e-5)  # batch-free
    assert not np.allclose(out[0], out[1])
    # the stride-2 stages: a 224 picture ends 7 × 7 before the pool
    seen = {}
    ext.model.layer4.register_forward_hook(lambda m, i, o: seen.update(shape=tuple(o.shape)))
    ext(frames[:1])
    assert seen["shape"] == (1, 128, 7, 7)


def test_missing_wrong_and_other_layout_files_are_refused(tiny, tmp_path):
    _, state = tiny
    with pytest.raises(WeightsError, match="resnet152 needs torchvision's ResNet-152"):
        make_extractor("resnet152")
    with pytest.raises(WeightsError, match=r"gone\.pth: weights file for resnet152 not found"):
        make_extractor("resnet152", weights=tmp_path / "gone.pth")
    i3d_file = tmp_path / "rgb_imagenet.pt"
    save_state(i3d_file, TINY_I3D)
    with pytest.raises(WeightsError, match=r"rgb_imagenet\.pt: not weights of resnet152.*conv1"):
        make_extractor("resnet152", weights=i3d_file)
    hole = tmp_path / "hole.pth"
    torch.save({k: v for k, v in state.items() if not k.startswith("layer2.0.")}, hole)
    with pytest.raises(WeightsError, match=r"hole\.pth: .*missing \(e\.g\. layer2\.0\.conv1"):
        make_extractor("resnet152", weights=hole)
    basic = tmp_path / "resnet18.pth"  # basic blocks: two 3 × 3 convolutions, no conv3
    torch.save({k: v for k, v in state.items() if ".conv3." not in k and ".bn3." not in k}, basic)
    with pytest.raises(WeightsError, match=r"resnet18\.pth: .*missing \(e\.g\. layer1\.0\.conv3"):
        make_extractor("resnet152", weights=basic)
    extra = tmp_path / "extra.pth"
    torch.save({**state, "layer5.0.conv1.weight": torch.zeros(1)}, extra)
    with pytest.raises(WeightsError, match=r"extra\.pth: .*1 unexpected \(e\.g\. layer5"):
        make_extractor("resnet152", weights=extra)


@pytest.mark.parametrize("fps", [1.0, 2.0])
def test_row_t_sees_the_frame_of_its_time(tiny, tmp_path, monkeypatch, fps):
    monkeypatch.setattr(resnet, "build_resnet", lambda state, path=None: FrameStamps())
    times = [0.0, 0.3, 0.9, 1.0, 1.45, 2.2, 2.5, 3.05]  # variable frame rate, time-coded
    clips.timed(tmp_path / "in" / "coded.mp4", times)
    extract_features(
        [tmp_path / "in"],
        tmp_path / "out",
        extractor="resnet152",
        weights=tiny[0],
        fps=fps,
        workers=1,
        device="cpu",
    )
    got = np.load(tmp_path / "out" / "coded.npy")[:, 0]
    np.testing.assert_allclose(got, expected_stamps(times, fps), atol=1e-6)
    if fps == 1.0:
        np.testing.assert_allclose(got, [0.0, 1.0, 2.2, 3.05], atol=1e-6)
