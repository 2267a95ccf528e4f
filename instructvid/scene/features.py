"""Local features (thesis §5.3.1, the function L): SIFT by default, a learned extractor pluggable.

An extractor maps a grey image (H, W) ``uint8`` to ``(keypoints (N, 2) float32, descriptors
(N, D) float32)``; keypoints are pixel coordinates in the COLMAP convention (top-left image
corner at (0, 0), centre of the top-left pixel at (0.5, 0.5)); descriptors are L2-normalised rows
so that mutual nearest neighbours can be found with a dot product.

- ``sift`` (default; the thesis used R2D2): COLMAP's SIFT through pycolmap, RootSIFT descriptors.
- ``torch:<weights.pt2>`` (a ``torch.export`` program) or ``torch:<weights.pt>`` /
  ``torchscript:<weights.pt>`` (TorchScript): any learned extractor whose
  ``forward(image)`` takes a (1, 1, H, W) float32 tensor in [0, 1] and returns
  ``(keypoints (N, 2) in the convention above, descriptors (N, D))``; e.g. R2D2 or SuperPoint
  weights of the user's own, loaded from a path (nothing is downloaded).

Features of one input are stored in one ``.npz`` file: ``names`` (the image names) and, for image
``i``, ``kp_<i>`` (N, 2) float32 and ``desc_<i>`` (N, D) float16 (to halve the size; converted back
to float32 when read).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from instructvid.io.atomic import atomic_open
from instructvid.types import PathLike

__all__ = [
    "FeatureSet",
    "LocalFeatureExtractor",
    "SiftExtractor",
    "TorchScriptExtractor",
    "load_features",
    "make_extractor",
    "read_gray",
    "save_features",
]


class LocalFeatureExtractor(Protocol):
    """``extractor(gray (H, W) uint8) -> (keypoints (N, 2) float32, descriptors (N, D) float32)``."""

    name: str

    def __call__(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def load_torch_model(path: PathLike):
    """A user's model from a file: ``.pt2`` = ``torch.export`` program, else TorchScript (CPU).

    Raises FileNotFoundError naming the file when it is missing.
    """
    import warnings

    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model weights not found: {path}")
    if path.suffix == ".pt2":
        return torch.export.load(str(path)).module()
    with warnings.catch_warnings():  # TorchScript is deprecated in torch >= 2.10 but still loads
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()


def read_gray(path: PathLike) -> np.ndarray:
    """Read an image file as grey (H, W) uint8; a clear error names an unreadable file."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read image {path}")
    return img


def _check_gray(gray: np.ndarray) -> np.ndarray:
    gray = np.asarray(gray)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"expected a grey (H, W) uint8 image, got {gray.shape} {gray.dtype}")
    return np.ascontiguousarray(gray)


def _downscale(gray: np.ndarray, max_size: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = gray.shape
    scale = max(h, w) / max_size if max_size > 0 and max(h, w) > max_size else 1.0
    if scale == 1.0:
        return gray, 1.0
    small = cv2.resize(gray, (round(w / scale), round(h / scale)), interpolation=cv2.INTER_AREA)
    return small, w / small.shape[1]


@dataclass
class SiftExtractor:
    """COLMAP's SIFT (pycolmap, CPU), RootSIFT descriptors, at most ``max_features`` per image."""

    max_features: int = 4096
    max_image_size: int = 1600
    peak_threshold: float = 0.0066667
    num_threads: int = 1
    name: str = "sift"

    def __post_init__(self) -> None:
        import pycolmap

        opts = pycolmap.FeatureExtractionOptions()
        opts.max_image_size = self.max_image_size
        opts.num_threads = self.num_threads
        opts.sift.max_num_features = self.max_features
        opts.sift.peak_threshold = self.peak_threshold
        self._impl = pycolmap.FeatureExtractor.create(opts, device=pycolmap.Device.cpu)

    def __call__(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        small, scale = _downscale(_check_gray(gray), self.max_image_size)
        import pycolmap

        kp, desc = self._impl.extract_from_uint8_array(np.ascontiguousarray(small))
        kpm = pycolmap.keypoints_to_matrix(kp)
        desc = np.asarray(desc.data, np.float32).reshape(len(kpm), -1)
        if len(kpm) > self.max_features:  # keep the largest scales, as COLMAP does
            keep = np.sort(np.argsort(-kpm[:, 2], kind="stable")[: self.max_features])
            kpm, desc = kpm[keep], desc[keep]
        xy = kpm[:, :2].astype(np.float32) * scale
        desc /= np.maximum(np.linalg.norm(desc, axis=1, keepdims=True), 1e-12)
        return xy, desc

    def __getstate__(self):  # the pycolmap extractor is not picklable; rebuild it
        return {k: v for k, v in self.__dict__.items() if k != "_impl"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__post_init__()


@dataclass
class TorchScriptExtractor:
    """A learned extractor from a TorchScript file of the user's (see the module docstring)."""

    weights: str
    max_image_size: int = 1600
    name: str = "torchscript"

    def __post_init__(self) -> None:
        self._model = load_torch_model(self.weights)

    def __call__(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        small, scale = _downscale(_check_gray(gray), self.max_image_size)
        with torch.no_grad():
            kp, desc = self._model(torch.from_numpy(small).float()[None, None] / 255.0)
        xy = kp.detach().cpu().numpy().astype(np.float32).reshape(-1, 2) * scale
        desc = desc.detach().cpu().numpy().astype(np.float32).reshape(len(xy), -1)
        desc /= np.maximum(np.linalg.norm(desc, axis=1, keepdims=True), 1e-12)
        return xy, desc

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_model"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__post_init__()


def make_extractor(spec: str = "sift", **kwargs) -> LocalFeatureExtractor:
    """An extractor by name: ``"sift"`` or ``"torch:/path/to/weights.pt2"`` (``torchscript:`` is an alias)."""
    if spec == "sift":
        return SiftExtractor(**kwargs)
    if spec.startswith(("torchscript:", "torch:")):
        kwargs.pop("max_features", None)
        kwargs.pop("num_threads", None)
        return TorchScriptExtractor(spec.split(":", 1)[1], **kwargs)
    raise ValueError(f"unknown local feature extractor {spec!r}; use 'sift' or 'torch:PATH'")


@dataclass
class FeatureSet:
    """Features of the images of one input: ``keypoints[name]`` (N, 2), ``descriptors[name]`` (N, D)."""

    keypoints: dict[str, np.ndarray]
    descriptors: dict[str, np.ndarray]

    @property
    def names(self) -> list[str]:
        return list(self.keypoints)


def save_features(path: PathLike, features: FeatureSet) -> Path:
    """Write a :class:`FeatureSet` as ``.npz`` (atomically)."""
    arrays: dict[str, np.ndarray] = {"names": np.asarray(features.names)}
    for i, name in enumerate(features.names):
        arrays[f"kp_{i}"] = features.keypoints[name].astype(np.float32)
        arrays[f"desc_{i}"] = features.descriptors[name].astype(np.float16)
    with atomic_open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return Path(path)


def load_features(path: PathLike, names: list[str] | None = None) -> FeatureSet:
    """Read the features written by :func:`save_features` (all images, or only ``names``)."""
    with np.load(path) as data:
        all_names = [str(n) for n in data["names"]]
        wanted = set(all_names if names is None else names)
        kps, descs = {}, {}
        for i, name in enumerate(all_names):
            if name in wanted:
                kps[name] = data[f"kp_{i}"]
                descs[name] = data[f"desc_{i}"].astype(np.float32)
    return FeatureSet(kps, descs)
