"""What a feature extractor is: the frame / clip protocol, the whole-video protocol, and what
reading a whole video found beside its rows (see :mod:`instructvid.video.features`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from instructvid.types import PathLike

__all__ = ["FeatureExtractor", "RowsInfo", "VideoExtractor"]


@dataclass(frozen=True)
class RowsInfo:
    """The video's length, whether it was cut short and why, and extra manifest fields."""

    duration: float  # seconds
    truncated: bool = False
    warning: str | None = None
    flags: dict = field(default_factory=dict)  # extra fields of the video's manifest entry


@runtime_checkable
class FeatureExtractor(Protocol):
    """uint8 RGB frames (N, H, W, 3) → float32 features (N, ``dim``)."""

    name: str
    dim: int
    input_size: tuple[int, int]  # (width, height) in pixels
    weights: Path | None

    def __call__(self, frames: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class VideoExtractor(Protocol):
    """A whole video file → float32 rows (T, ``dim``) at ``fps`` rows per second, and what
    reading it found (:class:`RowsInfo`)."""

    name: str
    dim: int
    weights: Path | None

    def video_rows(self, source: PathLike, fps: float) -> tuple[np.ndarray, RowsInfo]: ...
