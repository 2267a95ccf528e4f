"""Per-second cues computed from the pixels: how much moves (``flow``), where the hands are
(``hands``). Thesis Table 4.1's "optical flow" and "hand detector" actionness baselines.

Each cue maps a video file to one row per second (``fps`` rows per second), the same seconds as
the feature rows (row ``t`` = ``[t, t + 1)`` s): ``flow`` writes (T,) float32, ``hands``
(T, 3) float32 = (score, x, y). The (T,) flow files are per-second actionness scores as
``actionness evaluate --scores`` reads them.

- ``flow``: the mean optical-flow magnitude per second. Frames are decoded at ``substeps`` ×
  ``fps`` per second (streamed, only those frames converted: grey, downscaled to ``width``
  pixels wide), DIS optical flow (OpenCV, "ultrafast" preset) between consecutive samples, and
  row ``t`` = the mean over the pairs ending in row ``t`` of the mean per-pixel magnitude, in
  image widths per second (so independent of the resolution and of ``substeps``). A row with no
  pair (a one-frame video) is 0.
- ``hands``: see :mod:`instructvid.video.hands`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from instructvid.types import PathLike
from instructvid.video.stream import RateDecoder

__all__ = ["CUES", "Cue", "CueResult", "FlowCue", "make_cue"]


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


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


@dataclass(frozen=True)
class FlowCue:
    """Mean optical-flow magnitude per second (see the module docstring)."""

    substeps: int = 4
    width: int = 160
    name: str = "flow"
    dim: int = 1
    weights: Path | None = None

    def _size(self, w: int, h: int) -> tuple[int, int]:
        width = min(self.width, _even(w))
        return width, _even(h * width / w)

    def __call__(self, path: PathLike, fps: float = 1.0) -> CueResult:
        import cv2

        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        decoder = RateDecoder(path, rate=fps * self.substeps, size=self._size, pixel_format="gray")
        sums: list[float] = []
        counts: list[int] = []
        previous = None
        for sample, time, grey in decoder:
            row = sample // self.substeps
            while len(sums) <= row:
                sums.append(0.0)
                counts.append(0)
            if previous is not None:
                prev_time, prev_grey = previous
                dt = max(time - prev_time, 1.0 / (fps * self.substeps))
                if grey is prev_grey:  # the same frame again (a gap in the stream): no motion
                    magnitude = 0.0
                else:
                    flow = dis.calc(prev_grey, grey, None)
                    magnitude = float(np.sqrt((flow**2).sum(axis=2)).mean())
                sums[row] += magnitude / grey.shape[1] / dt
                counts[row] += 1
            previous = (time, grey)
        values = np.array(
            [s / c if c else 0.0 for s, c in zip(sums, counts, strict=True)], np.float32
        )
        return CueResult(values, decoder.duration, decoder.truncated, decoder.warning)


def _flow(weights, device):
    if weights is not None:
        raise ValueError(f"{weights}: the 'flow' cue has no weights; drop --weights")
    return FlowCue()


def _hands(weights, device):
    from instructvid.video.hands import HandsCue

    return HandsCue(None if weights is None else Path(weights))


#: name → builder(weights, device): the cues ``--cue`` accepts.
CUES = {"flow": _flow, "hands": _hands}


def make_cue(name: str, *, weights: PathLike | None = None, device: str = "auto") -> Cue:
    """The cue called ``name`` (a key of :data:`CUES`), ready to run."""
    if name not in CUES:
        raise ValueError(f"unknown cue {name!r}; choose one of {', '.join(CUES)}")
    return CUES[name](weights, device)
