"""What a per-second cue is: its protocol and its result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from instructvid.types import PathLike

__all__ = ["Cue", "CueResult"]


@dataclass(frozen=True)
class CueResult:
    """A cue's per-second values and what the decoder found."""

    values: np.ndarray  # (T,) or (T, 3) float32
    duration: float  # seconds
    truncated: bool
    warning: str | None


class Cue(Protocol):
    name: str
    dim: int  # values per row (1 → the file holds (T,))
    weights: Path | None

    def __call__(self, path: PathLike, fps: float) -> CueResult: ...
