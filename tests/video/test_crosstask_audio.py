"""The crosstask slot with its real audio half (tiny random weights of all three release layouts):
the last columns are VGGish's rows of the video's own audio, cut or zero-padded to the visual
rows; a video without audio keeps zero audio columns and says so in the manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from instructvid.video.crosstask_features import CrossTaskFeatures  # noqa: E402
from instructvid.video.extract import extract_features  # noqa: E402
from instructvid.video.vggish import VGGish, VGGishAudio  # noqa: E402
from tests.video.audio_clips import mel_centres_hz, tones, write_media  # noqa: E402
from tests.video.nets import TINY_I3D, TINY_RESNET, save_state  # noqa: E402

VISUAL = 64 + 128  # Mixed_5c of TINY_I3D ‖ pooled TINY_RESNET
AUDIO = 12


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("crosstask_weights")
    save_state(root / "rgb_imagenet.pt", TINY_I3D)
    save_state(root / "resnet152-b121ed2d.pth", TINY_RESNET)
    gen = torch.Generator().manual_seed(0)
    tiny = VGGish((4, 4, 8, 8, 8, 8), (16, 16, AUDIO))
    state = {k: torch.randn(v.shape, generator=gen) * 0.3 for k, v in tiny.state_dict().items()}
    torch.save(state, root / "vggish-10086976.pth")
    return root


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    freqs = mel_centres_hz()[[6, 20, 33, 47]]
    # 3 s of video, 4 s of tones (one per second): audio rows beyond the video are cut
    write_media(root / "tones.mkv", tones(freqs, 16000), rate=16000, video_seconds=3.0)
    write_media(root / "mute.mkv", None, video_seconds=3.0)
    return root


def test_audio_columns_are_vggish_rows_of_the_same_video(folder, videos, tmp_path):
    result = extract_features(
        [videos], tmp_path / "out", extractor="crosstask", weights=folder, workers=1, device="cpu"
    )
    assert not result.problems
    rows = np.load(tmp_path / "out" / "tones.npy")
    assert rows.shape == (3, VISUAL + AUDIO) and np.isfinite(rows).all()
    audio = VGGishAudio(folder / "vggish-10086976.pth", device="cpu").video_rows(
        videos / "tones.mkv"
    )
    assert audio.shape[0] == 4  # one more than the video's rows
    np.testing.assert_allclose(rows[:, VISUAL:], audio[:3], rtol=1e-5, atol=1e-5)
    assert not np.allclose(rows[0, VISUAL:], rows[1, VISUAL:])  # each second its own tone
    mute = np.load(tmp_path / "out" / "mute.npy")
    assert mute.shape == (3, VISUAL + AUDIO) and (mute[:, VISUAL:] == 0).all()
    assert np.abs(mute[:, :VISUAL]).sum() > 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["dim"] == VISUAL + AUDIO
    assert manifest["videos"]["mute"]["no_audio"] is True
    assert "no_audio" not in manifest["videos"]["tones"]
    assert "no audio stream" in result.warnings["mute"]


def test_the_slot_reads_the_three_files_of_the_folder(folder, videos):
    slot = CrossTaskFeatures(folder, device="cpu")
    assert slot.dim == VISUAL + AUDIO
    values, info = slot.video_rows(videos / "tones.mkv", 2.0)
    assert values.shape == (6, VISUAL + AUDIO) and not info.truncated
