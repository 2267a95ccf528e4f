"""Helpers of the network-slot tests: tiny weights files, and stand-in networks that read the
time code drawn into the frames they are given (to check which frames a row sees)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from instructvid.video import i3d, resnet
from instructvid.video.nets import random_state
from instructvid.video.synthetic import read_timestamp

#: Small layouts with the release's key names.
TINY_I3D = i3d.release_shapes(classes=7, divisor=16)  # Mixed_5c gives 24 + 24 + 8 + 8 = 64
TINY_RESNET = resnet.release_shapes(blocks=(1, 2, 1, 1), width=4, classes=10)  # 4·8·4 = 128


def save_state(path: Path, shapes: dict, *, seed: int = 0, counters: bool = False) -> dict:
    """A random state dict of ``shapes`` saved to ``path`` (without the batch-norm counters,
    like the public files written before PyTorch 0.4.1, unless ``counters``)."""
    state = random_state(shapes, seed)
    if not counters:
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


class ClipStamps(nn.Module):
    """I3D stand-in: (B, 3, T, H, W) in [−1, 1] → (B, T) the time (s) each frame shows."""

    dim = 16

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        pixels = ((video + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
        frames = pixels.permute(0, 2, 3, 4, 1).cpu().numpy()  # (B, T, H, W, 3)
        return torch.tensor([[read_timestamp(f) for f in clip] for clip in frames])


class FrameStamps(nn.Module):
    """ResNet stand-in: (B, 3, H, W) ImageNet-normalised → (B, 1) the time each frame shows."""

    dim = 1

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(resnet.MEAN).view(1, 3, 1, 1)
        std = torch.tensor(resnet.STD).view(1, 3, 1, 1)
        pixels = ((images * std + mean) * 255.0).round().clamp(0, 255).to(torch.uint8)
        frames = pixels.permute(0, 2, 3, 1).cpu().numpy()
        return torch.tensor([[read_timestamp(f)] for f in frames])


def expected_stamps(times, rate: float) -> np.ndarray:
    """(R,) the time of the frame a decoder at ``rate`` takes for each row (brute force)."""
    from instructvid.video.stream import rows_for_times

    return np.asarray(times)[rows_for_times(times, rate)]


def expected_clip(times, row: int, *, fps: float, n: int = 16, rate: float = 16.0) -> list:
    """The times of the ``n`` samples at ``rate`` of the clip centred on ``(row + 0.5) / fps``."""
    samples = expected_stamps(times, rate)
    lo = round((row + 0.5) / fps * rate) - n // 2
    return [float(samples[min(max(j, 0), len(samples) - 1)]) for j in range(lo, lo + n)]
