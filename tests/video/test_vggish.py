"""The vggish slot (no real weights here): layout, loading, PCA, rows of the right seconds."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from instructvid.video.vggish import VGGish, VGGishAudio, load_pca, postprocess  # noqa: E402
from instructvid.video.weights import WeightsError  # noqa: E402
from tests.video.audio_clips import mel_centres_hz, tones, write_media  # noqa: E402

TINY_WIDTHS, TINY_FC = (4, 4, 8, 8, 8, 8), (16, 16, 12)


def _random_state(model: torch.nn.Module, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(v.shape, generator=gen) * 0.3 for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A random state dict with the port's names and small widths, saved as a .pth."""
    path = tmp_path_factory.mktemp("w") / "vggish-tiny.pth"
    torch.save(_random_state(VGGish(TINY_WIDTHS, TINY_FC)), path)
    return path


@pytest.fixture(scope="module")
def tone_video(tmp_path_factory):
    freqs = mel_centres_hz()[[6, 20, 33, 47]]
    path = tmp_path_factory.mktemp("v") / "tones.mkv"
    return write_media(path, tones(freqs, 48000), rate=48000, video_seconds=4.0)


def test_full_size_layout_is_the_published_vggish():
    with torch.device("meta"):
        model = VGGish()
    # 6 convolutions (1→64→128→256→256→512→512, 3 × 3) + fc 12288→4096→4096→128
    assert sum(p.numel() for p in model.parameters()) == 72_141_184
    assert model.dim == 128
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["features.0.weight"] == (64, 1, 3, 3)
    assert shapes["features.13.weight"] == (512, 512, 3, 3)
    assert shapes["embeddings.0.weight"] == (4096, 12288)
    assert shapes["embeddings.2.bias"] == (4096,)
    assert shapes["embeddings.4.weight"] == (128, 4096)
    assert len(shapes) == 18  # 9 layers × (weight, bias), nothing else


def test_tiny_state_dict_builds_a_tiny_network_and_gives_rows(tiny_weights, tone_video):
    vggish = VGGishAudio(tiny_weights, device="cpu", batch=3)
    assert (vggish.name, vggish.dim) == ("vggish", 12)
    rows = vggish.video_rows(tone_video)
    assert rows.shape == (4, 12) and rows.dtype == np.float32 and np.isfinite(rows).all()
    assert (rows >= 0).all()  # the final ReLU of the port
    assert not np.allclose(rows[0], rows[1])  # different tones, different rows
    again = VGGishAudio(tiny_weights, device="cpu", batch=3).video_rows(tone_video)
    np.testing.assert_array_equal(rows, again)  # deterministic
    other_batch = VGGishAudio(tiny_weights, device="cpu", batch=64).video_rows(tone_video)
    np.testing.assert_allclose(rows, other_batch, rtol=1e-5, atol=1e-4)
    assert vggish.video_rows(tone_video, fps=2.0).shape == (8, 12)


def test_flattening_follows_tensorflow_frames_bands_channels_order(tiny_weights):
    model = VGGish.for_state_dict(torch.load(tiny_weights, weights_only=True))
    model.load_state_dict(torch.load(tiny_weights, weights_only=True))
    x = torch.randn(2, 1, 96, 64)
    with torch.inference_mode():
        maps = model.features(x).numpy()  # (B, C, 6, 4) in torch's layout
        nhwc = np.transpose(maps, (0, 2, 3, 1)).reshape(2, -1)  # what TF's flatten sees
        w0 = model.embeddings[0].weight.numpy()
        want_first = np.maximum(nhwc @ w0.T + model.embeddings[0].bias.numpy(), 0)
        got_first = model.embeddings[1](model.embeddings[0](
            torch.from_numpy(nhwc)
        )).numpy()  # fmt: skip
        np.testing.assert_allclose(got_first, want_first, rtol=1e-5, atol=1e-5)
        full = model(x).numpy()
        tail = model.embeddings[2:](torch.from_numpy(want_first)).numpy()
        np.testing.assert_allclose(full, tail, rtol=1e-5, atol=1e-5)


def test_a_video_without_audio_gives_no_rows(tiny_weights, tmp_path):
    path = write_media(tmp_path / "mute.mkv", None, video_seconds=2.0)
    assert VGGishAudio(tiny_weights, device="cpu").video_rows(path).shape == (0, 12)


def test_wrong_weights_are_refused_naming_the_file(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("not weights")
    with pytest.raises(WeightsError, match=r"notes\.pth: not a PyTorch weights file for vggish"):
        VGGishAudio(text)
    with pytest.raises(WeightsError, match=r"gone\.pth: weights file for vggish not found"):
        VGGishAudio(tmp_path / "gone.pth")
    other = tmp_path / "other.pth"
    torch.save({"conv1.conv1.weight": torch.zeros(64, 3, 3, 7, 7)}, other)
    with pytest.raises(
        WeightsError, match=r"other\.pth: not weights of vggish: tensors 18 missing"
    ):
        VGGishAudio(other)
    state = _random_state(VGGish(TINY_WIDTHS, TINY_FC))
    state["embeddings.0.weight"] = torch.zeros(16, 100)  # fc1 not fed by the conv stack
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(WeightsError, match=r"bad\.pth: .*embeddings\.0\.weight: \(16, 100\)"):
        VGGishAudio(bad)


def test_pca_post_processing_quantises_as_the_release(tiny_weights, tone_video, tmp_path):
    rng = np.random.default_rng(1)
    vectors, means = rng.normal(size=(12, 12)), rng.normal(size=12)
    npz = tmp_path / "pca.npz"
    np.savez(npz, pca_eigen_vectors=vectors, pca_means=means)
    pth = tmp_path / "pca.pth"
    torch.save(
        {"pca_eigen_vectors": torch.from_numpy(vectors), "pca_means": torch.from_numpy(means)},
        pth,
    )
    pth_numpy = tmp_path / "pca-numpy.pth"  # the port's file may hold numpy arrays
    torch.save({"pca_eigen_vectors": vectors, "pca_means": means.astype(np.float32)}, pth_numpy)
    raw = VGGishAudio(tiny_weights, device="cpu").video_rows(tone_video)
    for pca in (npz, pth, pth_numpy):
        rows = VGGishAudio(tiny_weights, pca=pca, device="cpu").video_rows(tone_video)
        x = np.clip(vectors @ (raw.astype(np.float64) - means).T, -2, 2).T
        np.testing.assert_array_equal(rows, np.floor((x + 2) * 63.75).astype(np.float32))
        assert rows.min() >= 0 and rows.max() <= 255 and (rows == np.round(rows)).all()
    floats = VGGishAudio(tiny_weights, pca=npz, device="cpu", quantize=False)
    np.testing.assert_allclose(
        floats.video_rows(tone_video), (raw - means) @ vectors.T, rtol=1e-4, atol=1e-4
    )


def test_pca_of_another_size_or_file_is_refused(tmp_path):
    npz = tmp_path / "pca128.npz"
    np.savez(npz, pca_eigen_vectors=np.eye(128), pca_means=np.zeros(128))
    with pytest.raises(WeightsError, match=r"pca128\.npz: pca_eigen_vectors has shape"):
        load_pca(npz, 12)
    assert load_pca(npz, 128)[0].shape == (128, 128)
    junk = tmp_path / "junk.npz"
    junk.write_text("nope")
    with pytest.raises(WeightsError, match=r"junk\.npz: not VGGish PCA parameters"):
        load_pca(junk, 128)
    nokey = tmp_path / "nokey.npz"
    np.savez(nokey, pca_means=np.zeros(128))
    with pytest.raises(WeightsError, match=r"nokey\.npz: .*no 'pca_eigen_vectors'"):
        load_pca(nokey, 128)


def test_postprocess_clips_to_the_byte_range():
    pca = (np.eye(3), np.zeros(3))
    got = postprocess(np.array([[-5.0, 0.0, 2.0]]), pca)
    np.testing.assert_array_equal(got, [[0.0, 127.0, 255.0]])  # uint8(127.5) = 127


def test_a_truncated_video_gives_the_rows_before_the_cut_and_a_warning(tiny_weights, tmp_path):
    full = write_media(tmp_path / "full.mkv", tones([500.0] * 8, 16000), rate=16000, channels=1)
    data = full.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    vggish = VGGishAudio(tiny_weights, device="cpu")
    with pytest.warns(UserWarning, match=r"cut\.mkv: truncated audio"):
        rows = vggish.video_rows(cut)
    assert 2 <= len(rows) <= 5 and "cut.mkv" in vggish.warning
    vggish.video_rows(full)
    assert vggish.warning is None
