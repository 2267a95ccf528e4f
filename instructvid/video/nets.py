"""Pieces shared by the networks that are built from the shapes of their weights (I3D, ResNet).

Such a network reads its widths, kernel sizes and block counts from the tensors of the state
dict, so that a release file builds the full network and a small state dict with the same key
names builds a small one. Errors follow :func:`instructvid.video.weights.fit_state_dict`'s
style: the file, the model, and the first tensor that is missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from instructvid.types import PathLike
from instructvid.video.weights import WeightsError

__all__ = [
    "check_frames",
    "fill_batchnorm_counters",
    "forward_batches",
    "random_state",
    "resize_frames",
    "shape_of",
]

BN_COUNTER = "num_batches_tracked"


def check_frames(frames: np.ndarray) -> np.ndarray:
    """``frames`` as a uint8 (N, H, W, 3) array, or a ValueError saying what was expected."""
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 RGB frames (N, H, W, 3), got {arr.dtype} {arr.shape}")
    return arr


def shape_of(
    state: Mapping, key: str, path: PathLike | None, what: str, ndim: int | None = None
) -> tuple[int, ...]:
    """The shape of ``state[key]`` (a tensor, or a shape in a layout); a :class:`WeightsError`
    naming ``path`` when it is missing or does not have ``ndim`` dimensions."""
    where = path if path is not None else "state dict"
    if key not in state:
        raise WeightsError(f"{where}: not weights of {what}: tensors 1 missing (e.g. {key})")
    value = state[key]
    shape = tuple(int(n) for n in getattr(value, "shape", value))  # a tensor, or a shape
    if ndim is not None and len(shape) != ndim:
        raise WeightsError(
            f"{where}: not weights of {what}: {key} has shape {shape}, expected {ndim} dimensions"
        )
    return shape


def fill_batchnorm_counters(state: dict, module) -> dict:
    """``state`` with the batch-norm counters (``*.num_batches_tracked``) ``module`` has and
    ``state`` lacks added as zeros: files written before PyTorch 0.4.1 (the public I3D port's,
    torchvision's first ResNet-152) have none, and inference never reads them."""
    import torch

    out = dict(state)
    for key, value in module.state_dict().items():
        if key.endswith(BN_COUNTER) and key not in out:
            out[key] = torch.zeros_like(value)
    return out


def resize_frames(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 frames (..., H, W, 3) resized to ``size`` = (width, height) (area filter); the
    same array when they already have that size."""
    import cv2

    w, h = size
    if frames.shape[-3:-1] == (h, w):
        return frames
    lead = frames.shape[:-3]
    if frames.size == 0:
        return np.zeros((*lead, h, w, 3), np.uint8)
    flat = frames.reshape(-1, *frames.shape[-3:])
    out = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in flat])
    return out.reshape(*lead, h, w, 3)


def random_state(shapes: Mapping[str, tuple[int, ...]], seed: int = 0) -> dict:
    """A random state dict of the given layout (name → shape): normal weights, positive
    batch-norm variances, zero counters — to build and run a network without its file."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in shapes.items():
        if key.endswith(BN_COUNTER):
            state[key] = torch.zeros(shape, dtype=torch.long)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            state[key] = torch.randn(shape, generator=gen) / np.sqrt(fan_in)
    return state


def forward_batches(model, arr: np.ndarray, *, batch: int, device: str, dim: int, to_input):
    """``model(to_input(tensor))`` over ``arr`` in batches of ``batch`` items, as float32 (N,
    ``dim``) on the CPU: inference mode, torch threads limited to the process's budget.

    ``to_input`` turns a uint8 tensor batch (already on ``device``) into the model's input.
    """
    import torch

    from instructvid.runtime import limit_torch_threads, thread_budget

    out = []
    with torch.inference_mode(), limit_torch_threads(thread_budget()):
        for i in range(0, len(arr), batch):
            x = torch.from_numpy(np.ascontiguousarray(arr[i : i + batch])).to(device)
            out.append(model(to_input(x)).float().cpu().numpy())
    if not out:
        return np.zeros((0, dim), np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)
