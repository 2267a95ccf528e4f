"""The crosstask slot's visual half and its dispatch (the audio network is a stand-in here)."""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from instructvid.video import i3d, resnet  # noqa: E402
from instructvid.video.batches import clip_windows, clips_and_frames, joint_rate  # noqa: E402
from instructvid.video.crosstask_features import CrossTaskFeatures, find_weights  # noqa: E402
from instructvid.video.extract import extract_features  # noqa: E402
from instructvid.video.features import (  # noqa: E402
    FeatureExtractor,
    VideoExtractor,
    make_extractor,
)
from instructvid.video.stream import rows_for_times  # noqa: E402
from instructvid.video.weights import WeightsError, file_sha256  # noqa: E402
from tests.video import clips  # noqa: E402
from tests.video.nets import (  # noqa: E402
    TINY_I3D,
    TINY_RESNET,
    ClipStamps,
    FrameStamps,
    expected_clip,
    expected_stamps,
    save_state,
)

AUDIO_DIM = 4


class StandInAudio:
    """Follows vggish.VGGishAudio's interface: row t = (t, t + 0.1, t + 0.2, t + 0.3); files
    named ``silent*`` have no audio stream; ``audio_rows`` rows per video."""

    name = "vggish"
    dim = AUDIO_DIM
    audio_rows = 2
    made: ClassVar[list] = []

    def __init__(self, weights, *, pca=None, device="auto", batch=64) -> None:
        if not Path(weights).is_file():
            raise WeightsError(f"{weights}: weights file for vggish not found")
        StandInAudio.made.append((Path(weights).name, pca and Path(pca).name))

    def video_rows(self, source, fps=1.0) -> np.ndarray:
        if Path(source).name.startswith("silent"):
            return np.zeros((0, self.dim), np.float32)
        t = np.arange(self.audio_rows, dtype=np.float32)[:, None]
        return t + np.arange(self.dim, dtype=np.float32) / 10


@pytest.fixture
def audio(monkeypatch):
    module = types.ModuleType("instructvid.video.vggish")
    module.VGGishAudio = StandInAudio
    monkeypatch.setitem(sys.modules, "instructvid.video.vggish", module)
    StandInAudio.made = []
    return StandInAudio


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("crosstask_weights")
    save_state(root / "rgb_imagenet.pt", TINY_I3D)
    save_state(root / "resnet152-b121ed2d.pth", TINY_RESNET)
    torch.save({"embeddings.0.weight": torch.zeros(2, 2)}, root / "vggish-10086976.pth")
    torch.save({"pca_eigen_vectors": torch.zeros(2, 2)}, root / "vggish_pca_params-970ea276.pth")
    (root / "README.txt").write_text("other files are ignored")
    return root


@pytest.fixture
def stamps(monkeypatch):
    monkeypatch.setattr(i3d, "build_i3d", lambda state, path=None: ClipStamps())
    monkeypatch.setattr(resnet, "build_resnet", lambda state, path=None: FrameStamps())


def test_weights_folder_found_by_public_names_and_hashed(folder, tmp_path):
    files = find_weights(folder)
    assert (files.i3d.name, files.resnet152.name) == ("rgb_imagenet.pt", "resnet152-b121ed2d.pth")
    assert (files.vggish.name, files.vggish_pca.name) == (
        "vggish-10086976.pth",
        "vggish_pca_params-970ea276.pth",
    )
    roles = [
        ("i3d", "rgb_imagenet.pt"),
        ("resnet152", "resnet152-b121ed2d.pth"),
        ("vggish", "vggish-10086976.pth"),
        ("vggish_pca", "vggish_pca_params-970ea276.pth"),
    ]
    lines = "\n".join(f"{role} {file_sha256(folder / name)}" for role, name in roles)
    assert files.sha256() == hashlib.sha256(lines.encode()).hexdigest()
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for src, dst in [
        ("rgb_imagenet.pt", "my_i3d.pt"),
        ("resnet152-b121ed2d.pth", "ResNet152.pth"),
        ("vggish-10086976.pth", "vggish.pth"),
        ("vggish_pca_params-970ea276.pth", "vggish_pca_params.pth"),
    ]:
        (renamed / dst).write_bytes((folder / src).read_bytes())
    assert find_weights(renamed).sha256() == files.sha256()
    (renamed / "vggish_pca_params.pth").unlink()
    assert (
        find_weights(renamed).vggish_pca is None
        and find_weights(renamed).sha256() != files.sha256()
    )


def test_missing_files_and_bad_folders_are_refused_naming_them(folder, tmp_path, audio):
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "rgb_imagenet.pt").write_bytes((folder / "rgb_imagenet.pt").read_bytes())
    with pytest.raises(WeightsError) as err:
        make_extractor("crosstask", weights=partial)
    message = str(err.value)
    assert message.startswith(f"{partial}: weights files for crosstask missing: ")
    assert "missing: ResNet-152 (torchvision) (resnet152*.pth); VGGish (vggish*.pth) (" in message
    with pytest.raises(WeightsError, match=r"crosstask needs --weights DIR.*rgb_imagenet\.pt"):
        make_extractor("crosstask")
    with pytest.raises(WeightsError, match=r"rgb_imagenet\.pt: not a folder"):
        make_extractor("crosstask", weights=folder / "rgb_imagenet.pt")
    twice = tmp_path / "twice"
    twice.mkdir()
    for name in ("rgb_imagenet.pt", "resnet152-a.pth", "resnet152-b.pth", "vggish.pth"):
        (twice / name).write_bytes(b"x")
    with pytest.raises(WeightsError, match=r"several ResNet-152 .*resnet152-a\.pth, resnet152-b"):
        make_extractor("crosstask", weights=twice)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "rgb_imagenet.pt").write_bytes((folder / "resnet152-b121ed2d.pth").read_bytes())
    (wrong / "resnet152.pth").write_bytes((folder / "resnet152-b121ed2d.pth").read_bytes())
    (wrong / "vggish.pth").write_bytes(b"x")
    with pytest.raises(WeightsError, match=r"wrong/rgb_imagenet\.pt: not weights of i3d"):
        make_extractor("crosstask", weights=wrong)


def test_rows_are_i3d_resnet_audio_of_the_right_seconds(folder, tmp_path, audio, stamps):
    times = [i / 20 for i in range(20 * 3 + 7)]  # 3.3 s at 20 fps, time-coded, no audio track
    clips.timed(tmp_path / "in" / "coded.mp4", times)
    clips.timed(tmp_path / "in" / "silent.mkv", times[:30])
    result = extract_features(
        [tmp_path / "in"],
        tmp_path / "out",
        extractor="crosstask",
        weights=folder,
        workers=1,
        device="cpu",
    )
    assert audio.made == [("vggish-10086976.pth", "vggish_pca_params-970ea276.pth")]
    coded = np.load(tmp_path / "out" / "coded.npy")
    assert coded.shape == (4, 16 + 1 + AUDIO_DIM) and coded.dtype == np.float32
    for t in range(4):
        np.testing.assert_allclose(coded[t, :16], expected_clip(times, t, fps=1.0), atol=1e-6)
    np.testing.assert_allclose(coded[:, 16], [0.0, 1.0, 2.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(coded[:2, 17:], [[0, 0.1, 0.2, 0.3], [1, 1.1, 1.2, 1.3]], atol=1e-6)
    assert (coded[2:, 17:] == 0).all()  # audio rows padded with zeros up to the visual rows
    silent = np.load(tmp_path / "out" / "silent.npy")
    assert silent.shape == (2, 21) and (silent[:, 17:] == 0).all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (manifest["extractor"], manifest["dim"]) == ("crosstask", 21)
    assert manifest["weights_sha256"] == find_weights(folder).sha256()
    assert manifest["videos"]["silent"]["no_audio"] is True
    assert "no_audio" not in manifest["videos"]["coded"]
    assert (
        "no audio stream" in result.warnings["silent"]
        and "17–20 are zeros" in result.warnings["silent"]
    )
    StandInAudio.audio_rows = 9  # more audio rows than visual ones: cut to the visual rows
    try:
        ext = make_extractor("crosstask", weights=folder, device="cpu")
        values, info = ext.video_rows(tmp_path / "in" / "coded.mp4", 1.0)
    finally:
        StandInAudio.audio_rows = 2
    assert values.shape == (4, 21) and values[3, 17] == 3.0 and not info.truncated


@pytest.mark.parametrize("fps", [1.0, 3.0, 0.5])
def test_one_decoding_pass_gives_the_rows_of_two(folder, tmp_path, audio, stamps, fps):
    times = [0.0, 0.05, 0.3, 0.5, 0.52, 0.9, 1.0, 1.3, 1.7, 2.01, 2.4, 2.45, 3.1, 3.3, 4.2]
    path = clips.timed(tmp_path / "vfr.mp4", times)
    one = CrossTaskFeatures(folder, device="cpu")
    two = CrossTaskFeatures(folder, device="cpu", max_joint_rate=0)
    a, _ = one.visual_rows(path, fps)
    b, _ = two.visual_rows(path, fps)
    np.testing.assert_array_equal(a, b)
    frames = expected_stamps(times, fps)
    assert len(a) <= len(frames)
    np.testing.assert_allclose(a[:, 16], frames[: len(a)], atol=1e-6)
    for t in range(len(a)):
        np.testing.assert_allclose(a[t, :16], expected_clip(times, t, fps=fps), atol=1e-6)


def test_visual_columns_are_the_two_networks_features(folder, tmp_path, audio):
    clips.timed(tmp_path / "in" / "clip.mp4", [i / 10 for i in range(22)])
    ext = make_extractor("crosstask", weights=folder, device="cpu")
    assert isinstance(ext, VideoExtractor) and not isinstance(ext, FeatureExtractor)
    assert ext.dim == 64 + 128 + AUDIO_DIM and ext.batch == 4
    values, info = ext.video_rows(tmp_path / "in" / "clip.mp4", 1.0)
    assert values.shape == (3, ext.dim) and np.isfinite(values).all()
    assert info.duration == pytest.approx(2.2, abs=0.05) and info.warning is None
    for name, cols in (("i3d", slice(0, 64)), ("resnet152", slice(64, 192))):
        weights = ext.files.i3d if name == "i3d" else ext.files.resnet152
        extract_features(
            [tmp_path / "in"],
            tmp_path / name,
            extractor=name,
            weights=weights,
            workers=1,
            device="cpu",
        )
        alone = np.load(tmp_path / name / "clip.npy")
        np.testing.assert_allclose(values[:, cols], alone, rtol=1e-4, atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 4000), min_size=1, max_size=50, unique=True),
    st.sampled_from([0.5, 1.0, 2.0, 3.0, 0.3, 1.5]),
    st.sampled_from([(16, 16.0), (4, 10.0), (3, 16.0)]),
)
def test_clips_and_frames_match_two_separate_decoders(ms, fps, clip):
    n, rate = clip
    times = [m / 1000 for m in sorted(ms)]

    def samples(r):  # what a RateDecoder at r yields (the image = the frame's index)
        return [(k, times[i], np.array([i])) for k, i in enumerate(rows_for_times(times, r))]

    joint = joint_rate(rate, fps)
    got = list(clips_and_frames(samples(float(joint)), fps=fps, n=n, rate=rate, sample_rate=joint))
    want_clips = list(clip_windows(samples(rate), fps=fps, n=n, rate=rate))
    want_frames = [image for _, _, image in samples(fps)]
    assert len(got) == len(want_clips) <= len(want_frames)
    for (c, f), wc, wf in zip(got, want_clips, want_frames, strict=False):
        np.testing.assert_array_equal(c, wc)
        np.testing.assert_array_equal(f, wf)


def test_cli_runs_the_slot_and_refuses_an_incomplete_folder(folder, tmp_path, audio, stamps):
    from typer.testing import CliRunner

    from instructvid.cli.main import app

    clips.timed(tmp_path / "in" / "silent.mp4", [i / 10 for i in range(25)])
    args = ["video", "features", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
            "--extractor", "crosstask", "--workers", "1", "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--weights", str(folder)])
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "out" / "silent.npy").shape == (3, 21)
    assert "no audio stream" in result.output
    partial = tmp_path / "partial"
    partial.mkdir()
    result = CliRunner().invoke(
        app, [*args, "--weights", str(partial), "--out", str(tmp_path / "o2")]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "weights files for crosstask missing" in " ".join(result.output.split())
