"""The milnce-s3d slot (no real weights here): layout, loading, clips of the right seconds."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from instructvid.video.batches import clip_windows, prefetch_batches  # noqa: E402
from instructvid.video.features import WeightsError, make_extractor  # noqa: E402
from instructvid.video.s3d import S3D  # noqa: E402
from instructvid.video.stream import RateDecoder  # noqa: E402
from instructvid.video.synthetic import read_timestamp  # noqa: E402
from tests.video import clips  # noqa: E402


@pytest.fixture(scope="module")
def released_layout(tmp_path_factory):
    """A random state dict laid out like the released s3d_howto100m.pth (text branch too)."""
    torch.manual_seed(0)
    model = S3D()
    state = {
        k: torch.randn_like(v) if v.is_floating_point() else v
        for k, v in model.state_dict().items()
    }
    state = {k: (v.abs() + 0.5 if k.endswith("running_var") else v) for k, v in state.items()}
    state["fc.weight"] = torch.randn(512, 1024)
    state["fc.bias"] = torch.zeros(512)
    state["text_module.word_embd.weight"] = torch.randn(10, 300)
    path = tmp_path_factory.mktemp("w") / "s3d_howto100m.pth"
    torch.save(state, path)
    return path, state


def test_released_layout_loads_and_encodes(released_layout):
    path, state = released_layout
    s3d = make_extractor("milnce-s3d", weights=path, device="cpu")
    assert (s3d.dim, s3d.clip_frames, s3d.clip_rate) == (1024, 32, 10.0)
    loaded = s3d.model.state_dict()
    for key in ("conv1.conv1.weight", "mixed_5c.conv_b1_b.conv2.weight", "gating.fc.bias"):
        torch.testing.assert_close(loaded[key], state[key])
    with torch.inference_mode():
        out = s3d.model(torch.rand(2, 3, 8, 64, 64))
    assert out.shape == (2, 1024) and torch.isfinite(out).all()
    assert not torch.allclose(out[0], out[1])


def test_missing_or_wrong_s3d_weights(tmp_path):
    with pytest.raises(WeightsError, match="milnce-s3d needs the MIL-NCE S3D weights"):
        make_extractor("milnce-s3d")
    other = tmp_path / "other.pth"
    torch.save({"conv1.conv1.weight": torch.zeros(64, 3, 3, 7, 7)}, other)
    with pytest.raises(WeightsError, match=r"other\.pth: not weights of milnce-s3d"):
        make_extractor("milnce-s3d", weights=other)


def test_clip_windows_are_centred_on_each_second(tmp_path):
    times = [i / 20 for i in range(20 * 4 + 5)]  # 4.2 s at 20 fps
    path = clips.timed(tmp_path / "c.mp4", times)
    got = list(clip_windows(RateDecoder(path, rate=10.0), fps=1.0, n=12, rate=10.0))
    assert len(got) == 5  # rows 0 … 4
    stamps = [[read_timestamp(f) for f in clip] for clip in got]
    assert stamps[1] == pytest.approx([0.9 + i / 10 for i in range(12)])  # centred on 1.5 s
    assert stamps[0] == pytest.approx([0.0] + [i / 10 for i in range(11)])  # start repeated
    assert stamps[4] == pytest.approx([3.9, 4.0, 4.1] + [4.2] * 9)  # end repeated


def test_prefetch_batches_stack_and_pass_errors():
    items = (np.full((2, 2), i) for i in range(7))
    batches = list(prefetch_batches(items, 3))
    assert [b.shape[0] for b in batches] == [3, 3, 1] and batches[2][0, 0, 0] == 6

    def broken():
        yield np.zeros(2)
        raise ValueError("decoder broke")

    with pytest.raises(ValueError, match="decoder broke"):
        list(prefetch_batches(broken(), 1))
