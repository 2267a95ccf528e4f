"""The ``crosstask`` slot: CrossTask's 3200-d features (Zhukov et al. 2019), user weights.

Row ``t`` (second ``t`` at ``--fps 1``) = I3D RGB (1024, :mod:`~instructvid.video.i3d`: the
16 frames of ``[t, t + 1)`` at 16 fps) ‖ ResNet-152 (2048, :mod:`~instructvid.video.resnet`:
the frame of second ``t``) ‖ VGGish (128, :mod:`~instructvid.video.vggish`: the 0.96 s of
audio from ``t``) — the column layout of the released ``crosstask_features/<vid>.npy`` (I3D
0–1023, ResNet 1024–3071, VGGish 3072–3199).

``--weights DIR``: a folder holding the three networks' files under their public names
(:data:`WEIGHT_FILES`): the pytorch-i3d port's ``rgb_imagenet.pt`` (or any ``*i3d*.pt``),
torchvision's ``resnet152-*.pth``, a VGGish state dict ``vggish*.pth`` and, optionally, its PCA
``vggish_pca_params*.pth``. The manifest's ``weights_sha256`` is the SHA-256 of the lines
``"<role> <file's SHA-256>"`` (roles ``i3d``, ``resnet152``, ``vggish``, ``vggish_pca`` when
present, in that order): the same files give the same hash whatever their names.

The video is decoded ONCE for both visual networks: at the lowest rate that is a whole multiple
of I3D's 16 fps and of ``fps`` (16 at 1 row per second), a sample of which is exactly the frame
a decoder at either rate would take (:func:`~instructvid.video.batches.clips_and_frames`); when
that rate would exceed :attr:`CrossTaskFeatures.max_joint_rate` (an ``fps`` such as 29.97), the
two are decoded side by side instead — same rows. ``T`` = the visual rows; the audio rows are
cut or zero-padded to ``T``; a video without an audio stream gets zero audio columns, a warning
and ``"no_audio": true`` in its manifest entry.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from instructvid.types import PathLike
from instructvid.video.extractor_types import FeatureExtractor, RowsInfo
from instructvid.video.weights import WeightsError, file_sha256

if TYPE_CHECKING:
    from instructvid.video.stream import RateDecoder

__all__ = [
    "WEIGHT_FILES",
    "CrossTaskFeatures",
    "CrossTaskWeights",
    "find_weights",
    "visual_items",
    "visual_rows",
]

NAME = "crosstask"

#: role → (what it is, the file-name patterns accepted, case-insensitive, first match wins).
WEIGHT_FILES = {
    "i3d": (
        "I3D RGB (pytorch-i3d)",
        ("rgb_imagenet.pt", "rgb_charades.pt", "*i3d*.pt", "*i3d*.pth"),
    ),
    "resnet152": ("ResNet-152 (torchvision)", ("resnet152*.pth",)),
    "vggish": ("VGGish", ("vggish*.pth",)),
    "vggish_pca": ("VGGish PCA (optional)", ("vggish_pca_params*.pth",)),
}


@dataclass(frozen=True)
class CrossTaskWeights:
    """The weights files found in a ``--weights`` folder."""

    folder: Path
    i3d: Path
    resnet152: Path
    vggish: Path
    vggish_pca: Path | None = None

    def sha256(self) -> str:
        """SHA-256 of the lines ``"<role> <file SHA-256>"`` (see the module docstring)."""
        lines = [
            f"{role} {file_sha256(path)}"
            for role in WEIGHT_FILES
            if (path := getattr(self, role)) is not None
        ]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _expected() -> str:
    return "; ".join(f"{what}: {' or '.join(names)}" for what, names in WEIGHT_FILES.values())


def find_weights(folder: PathLike | None) -> CrossTaskWeights:
    """The files of each role in ``folder``; a :class:`WeightsError` naming the folder, what is
    missing and the names expected (or the files when a role matches several)."""
    if folder is None or not Path(folder).is_dir():
        where = "crosstask needs --weights DIR" if folder is None else f"{folder}: not a folder"
        raise WeightsError(f"{where}: a folder holding the weights files ({_expected()})")
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    found: dict[str, Path] = {}
    missing: list[str] = []
    for role, (what, patterns) in WEIGHT_FILES.items():
        taken = set(found.values())
        for pattern in patterns:
            hits = [p for p in files if fnmatch.fnmatch(p.name.lower(), pattern) and p not in taken]
            if role == "vggish":  # the PCA file also matches vggish*.pth
                hits = [p for p in hits if not fnmatch.fnmatch(p.name.lower(), "vggish_pca*")]
            if len(hits) > 1:
                names = ", ".join(p.name for p in hits)
                raise WeightsError(f"{folder}: several {what} weights files ({names}); keep one")
            if hits:
                found[role] = hits[0]
                break
        else:
            if role != "vggish_pca":
                missing.append(f"{what} ({' or '.join(patterns)})")
    if missing:
        raise WeightsError(
            f"{folder}: weights files for crosstask missing: {'; '.join(missing)} "
            f"(a folder holding {_expected()})"
        )
    return CrossTaskWeights(
        folder, found["i3d"], found["resnet152"], found["vggish"], found.get("vggish_pca")
    )


def _audio_model(files: CrossTaskWeights, device: str, batch: int):
    try:
        from instructvid.video.vggish import VGGishAudio
    except ModuleNotFoundError as exc:
        if exc.name != "instructvid.video.vggish":
            raise
        raise WeightsError(
            "crosstask needs its audio network (instructvid.video.vggish), which this "
            "installation lacks"
        ) from None
    return VGGishAudio(files.vggish, pca=files.vggish_pca, device=device, batch=max(1, batch))


def visual_items(
    clip_model: FeatureExtractor, source: PathLike, fps: float, max_joint_rate: float
) -> tuple[Iterator[tuple[np.ndarray, np.ndarray]], RateDecoder]:
    """``(clip, frame)`` of every row of ``source`` (a generator: decoding happens as it is
    read), and the clip decoder, which says what it found once the items are read."""
    from instructvid.video.batches import clip_windows, clips_and_frames, joint_rate
    from instructvid.video.stream import RateDecoder

    n, rate = int(clip_model.clip_frames), float(clip_model.clip_rate)
    size = tuple(clip_model.input_size)
    joint = joint_rate(rate, fps)
    if joint <= max_joint_rate:
        decoder = RateDecoder(source, rate=float(joint), size=size)
        return clips_and_frames(decoder, fps=fps, n=n, rate=rate, sample_rate=joint), decoder
    decoder = RateDecoder(source, rate=rate, size=size)
    frames = RateDecoder(source, rate=fps, size=size)
    clips = clip_windows(decoder, fps=fps, n=n, rate=rate)
    return zip(clips, (image for _, _, image in frames), strict=False), decoder


def visual_rows(
    clip_model: FeatureExtractor,
    frame_model: FeatureExtractor,
    source: PathLike,
    fps: float = 1.0,
    *,
    batch: int = 4,
    max_joint_rate: float = 480.0,
) -> tuple[np.ndarray, RateDecoder]:
    """Rows ``clip_model(clip of row t) ‖ frame_model(frame of row t)`` of ``source``: (T,
    D_clip + D_frame) float32, and the decoder (``duration``, ``truncated``, ``warning``).

    One decoding pass at :func:`~instructvid.video.batches.joint_rate` when it is at most
    ``max_joint_rate`` per second, else a clip stream and a frame stream side by side (the same
    rows); decoding runs in a thread ahead of the models. Both models take frames of
    ``clip_model.input_size``.
    """
    from instructvid.video.batches import prefetch_batches

    items, decoder = visual_items(clip_model, source, fps, max_joint_rate)
    rows = [
        np.concatenate([clip_model(clips), frame_model(frames)], axis=1)
        for clips, frames in prefetch_batches(items, batch)
    ]
    if not rows:
        return np.zeros((0, clip_model.dim + frame_model.dim), np.float32), decoder
    return np.concatenate(rows).astype(np.float32, copy=False), decoder


class CrossTaskFeatures:
    """The ``crosstask`` whole-video extractor: a video file → (T, 3200) float32 rows.

    Args:
        weights: the folder of the three networks' files (see the module docstring).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        batch: rows per forward pass of the visual networks (at most 4: I3D's clips are big).
        max_joint_rate: the highest rate (per second) the single decoding pass runs at.
    """

    name = NAME
    input_size = (224, 224)

    def __init__(
        self,
        weights: PathLike | None,
        *,
        device: str = "auto",
        batch: int = 4,
        max_joint_rate: float = 480.0,
    ) -> None:
        from instructvid.video.i3d import I3DFeatures
        from instructvid.video.resnet import ResNetFeatures

        self.files = find_weights(weights)
        self.weights = self.files.folder
        self.i3d = I3DFeatures(self.files.i3d, device=device, batch=batch)
        self.resnet = ResNetFeatures(self.files.resnet152, device=device, batch=batch)
        self.audio = _audio_model(self.files, device, batch)
        self.batch = self.i3d.batch
        self.max_joint_rate = float(max_joint_rate)
        self.dim = int(self.i3d.dim + self.resnet.dim + self.audio.dim)

    @cached_property
    def weights_sha256(self) -> str:
        """The manifest's hash of the weights folder (see the module docstring); computed when
        first asked (the stage asks once, its workers never)."""
        return self.files.sha256()

    def visual_rows(self, source: PathLike, fps: float = 1.0) -> tuple[np.ndarray, RateDecoder]:
        """(T, I3D dim + ResNet dim) float32 of ``source`` and its decoder (``duration``,
        ``truncated``, ``warning``): :func:`visual_rows` with this slot's networks."""
        return visual_rows(
            self.i3d,
            self.resnet,
            source,
            fps,
            batch=self.batch,
            max_joint_rate=self.max_joint_rate,
        )

    def video_rows(self, source: PathLike, fps: float = 1.0) -> tuple[np.ndarray, RowsInfo]:
        """(T, ``dim``) float32 = I3D ‖ ResNet-152 ‖ VGGish of ``source`` at ``fps`` rows per
        second, and what reading it found (see the module docstring)."""
        visual, decoder = self.visual_rows(source, fps)
        rows = visual.shape[0]
        audio = np.asarray(self.audio.video_rows(source, fps), np.float32)
        if audio.ndim != 2 or audio.shape[1] != self.audio.dim:
            raise ValueError(
                f"{source}: the audio network gave rows of shape {audio.shape}, "
                f"expected (T, {self.audio.dim})"
            )
        block = np.zeros((rows, self.audio.dim), np.float32)
        block[: min(rows, len(audio))] = audio[:rows]
        warnings = [decoder.warning] if decoder.warning else []
        flags = {}
        if len(audio) == 0:
            first = visual.shape[1]
            warnings.append(
                f"{source}: no audio stream: the audio columns {first}–"
                f"{first + self.audio.dim - 1} are zeros"
            )
            flags["no_audio"] = True
        info = RowsInfo(
            duration=float(decoder.duration),
            truncated=bool(decoder.truncated),
            warning="; ".join(warnings) or None,
            flags=flags,
        )
        return np.concatenate([visual, block], axis=1), info
