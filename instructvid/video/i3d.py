"""The ``i3d`` slot: I3D, Inception-v1 inflated to 3D (Carreira & Zisserman 2017), RGB stream.

The module names are those of the widely used PyTorch port (``pytorch_i3d.py`` of
piergiaj/pytorch-i3d: ``InceptionI3d``, end points ``Conv3d_1a_7x7`` … ``Mixed_5c`` each a
``Unit3D`` (``conv3d`` + ``bn``) or an ``InceptionModule`` (branches ``b0 b1a b1b b2a b2b b3b``),
and the classifier ``logits``), so its released ``rgb_imagenet.pt`` (Kinetics-400) and
``rgb_charades.pt`` load as they are. The network is built from the shapes of the state dict
(widths and kernel sizes read from the tensors; only the strides are the architecture's), so a
small state dict with the same names builds a small I3D. Convolutions and max-pools pad like
TensorFlow's ``"SAME"`` from the size of their input (the port's rule; zero padding, which
equals TF's for the pools since they all follow a ReLU); batch norm has ε = 0.001.

The feature is the 1024-d ``Mixed_5c`` output averaged over time and space (the classifier is
loaded, so that the file fits exactly, but not used). Input: RGB scaled to [−1, 1].

A row is a clip: row ``t`` = :attr:`I3DFeatures.clip_frames` (16) frames at
:attr:`I3DFeatures.clip_rate` (16) per second centred on ``t + 0.5`` s, i.e. the frames of the
one-second window ``[t, t + 1)`` (CrossTask describes its features as one-second windows and did
not publish its clips; 16 frames are the shortest clip I3D's three temporal strides of 2 leave
two time steps of, and 16 fps keeps the motion within 1.6× of Kinetics' 25 fps), each frame the
whole picture resized to 224 × 224. At the ends of the video the first / last frame is repeated.

Not tested against the real weights (they are not on a package registry); the loading code is
tested on random state dicts of the release's layout, the full-size layout's key names and
shapes against the public code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from instructvid.types import PathLike
from instructvid.video.nets import (
    fill_batchnorm_counters,
    forward_batches,
    resize_frames,
    shape_of,
)
from instructvid.video.weights import WeightsError, fit_state_dict, load_state_dict

__all__ = ["END_POINTS", "I3DFeatures", "InceptionI3d", "release_shapes"]

WHAT = "i3d"

#: End points of the port, in order (``Logits`` is the separate ``logits`` module).
END_POINTS = (
    "Conv3d_1a_7x7",
    "MaxPool3d_2a_3x3",
    "Conv3d_2b_1x1",
    "Conv3d_2c_3x3",
    "MaxPool3d_3a_3x3",
    "Mixed_3b",
    "Mixed_3c",
    "MaxPool3d_4a_3x3",
    "Mixed_4b",
    "Mixed_4c",
    "Mixed_4d",
    "Mixed_4e",
    "Mixed_4f",
    "MaxPool3d_5a_2x2",
    "Mixed_5b",
    "Mixed_5c",
)

#: (kernel, stride) of the max-pool end points (time, height, width).
POOLS = {
    "MaxPool3d_2a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_3a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_4a_3x3": ((3, 3, 3), (2, 2, 2)),
    "MaxPool3d_5a_2x2": ((2, 2, 2), (2, 2, 2)),
}

#: Branches of an inception module: (name, input: "in" = the module's input, else a branch).
BRANCHES = (
    ("b0", "in"),
    ("b1a", "in"),
    ("b1b", "b1a"),
    ("b2a", "in"),
    ("b2b", "b2a"),
    ("b3b", "in"),
)

#: Inception-v1 widths (Szegedy et al. 2015, Table 1) of b0 b1a b1b b2a b2b b3b, per module.
MIXED_WIDTHS = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow ``"SAME"`` padding (before, after) of one axis of ``size`` samples: the output
    has ⌈size / stride⌉ samples; the odd sample of padding goes after."""
    total = max(kernel - (size % stride or stride), 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel, stride) -> torch.Tensor:
    pads: list[int] = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride), strict=True):
        pads.extend(same_padding(int(size), k, s))  # F.pad wants the last axis first
    return F.pad(x, pads)


class SamePool3d(nn.Module):
    """Max pooling with TF ``"SAME"`` zero padding computed from the input's size."""

    def __init__(self, kernel, stride) -> None:
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class Unit3D(nn.Module):
    """Conv3d (+ batch norm) (+ ReLU) with TF ``"SAME"`` padding; ``shape`` = the convolution
    weight's (out, in, kt, kh, kw)."""

    def __init__(self, shape, stride=(1, 1, 1), *, batch_norm=True, bias=False, relu=True):
        super().__init__()
        cout, cin, *kernel = shape
        self.kernel, self.stride, self.relu = tuple(kernel), tuple(stride), relu
        self.conv3d = nn.Conv3d(cin, cout, self.kernel, self.stride, bias=bias)
        self.bn = nn.BatchNorm3d(cout, eps=1e-3, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class _Channels:
    """Checks that each convolution takes the channels the layer before gives."""

    def __init__(self, path: PathLike | None) -> None:
        self.path = path if path is not None else "state dict"

    def check(self, key: str, shape: tuple[int, ...], given: int) -> None:
        if shape[1] != given:
            raise WeightsError(
                f"{self.path}: not weights of {WHAT}: {key} takes {shape[1]} channels, "
                f"the layer before gives {given}"
            )


class InceptionModule(nn.Module):
    """Four branches (1×1; 1×1 → k; 1×1 → k; max-pool → 1×1) concatenated on channels."""

    def __init__(self, state: Mapping, prefix: str, cin: int, path: PathLike | None) -> None:
        super().__init__()
        channels = _Channels(path)
        out = {"in": cin}
        for name, source in BRANCHES:
            key = f"{prefix}.{name}.conv3d.weight"
            shape = shape_of(state, key, path, WHAT, ndim=5)
            channels.check(key, shape, out[source])
            self.add_module(name, Unit3D(shape))
            out[name] = shape[0]
        self.b3a = SamePool3d((3, 3, 3), (1, 1, 1))
        self.out_channels = out["b0"] + out["b1b"] + out["b2b"] + out["b3b"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))],
            dim=1,
        )


class InceptionI3d(nn.Module):
    """I3D built from a state dict's shapes: (B, 3, T, H, W) in [−1, 1] → (B, ``dim``), the
    ``Mixed_5c`` output averaged over time and space (``dim`` = 1024 for the release).

    Raises:
        WeightsError: naming ``path`` when a tensor the layout needs is missing or the widths
            do not chain.
    """

    def __init__(self, state: Mapping, path: PathLike | None = None) -> None:
        super().__init__()
        channels = _Channels(path)
        c = 3
        for name in END_POINTS:
            if name in POOLS:
                self.add_module(name, SamePool3d(*POOLS[name]))
            elif name.startswith("Mixed"):
                block = InceptionModule(state, name, c, path)
                self.add_module(name, block)
                c = block.out_channels
            else:
                key = f"{name}.conv3d.weight"
                shape = shape_of(state, key, path, WHAT, ndim=5)
                channels.check(key, shape, c)
                stride = (2, 2, 2) if name == "Conv3d_1a_7x7" else (1, 1, 1)
                self.add_module(name, Unit3D(shape, stride))
                c = shape[0]
        self.dim = c
        self.logits = None
        if "logits.conv3d.weight" in state:  # the classifier: loaded, not used for features
            shape = shape_of(state, "logits.conv3d.weight", path, WHAT, ndim=5)
            channels.check("logits.conv3d.weight", shape, c)
            self.logits = Unit3D(shape, batch_norm=False, bias=True, relu=False)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        x = video
        for name in END_POINTS:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3, 4))


def _unit_shapes(prefix: str, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    n = (shape[0],)
    return {
        f"{prefix}.conv3d.weight": shape,
        f"{prefix}.bn.weight": n,
        f"{prefix}.bn.bias": n,
        f"{prefix}.bn.running_mean": n,
        f"{prefix}.bn.running_var": n,
        f"{prefix}.bn.num_batches_tracked": (),
    }


def release_shapes(classes: int | None = 400, divisor: int = 1) -> dict[str, tuple[int, ...]]:
    """The state-dict layout (name → shape) of the port's ``InceptionI3d`` (RGB): every width
    divided by ``divisor`` (≥ 1 channel) for small test networks; ``classes`` = the ``logits``
    outputs (400 Kinetics, 157 Charades; ``None``: no classifier)."""

    def w(n: int) -> int:
        return max(1, n // divisor)

    shapes: dict[str, tuple[int, ...]] = {}
    shapes.update(_unit_shapes("Conv3d_1a_7x7", (w(64), 3, 7, 7, 7)))
    shapes.update(_unit_shapes("Conv3d_2b_1x1", (w(64), w(64), 1, 1, 1)))
    shapes.update(_unit_shapes("Conv3d_2c_3x3", (w(192), w(64), 3, 3, 3)))
    c = w(192)
    for name, widths in MIXED_WIDTHS.items():
        b0, b1a, b1b, b2a, b2b, b3b = (w(n) for n in widths)
        for branch, shape in (
            ("b0", (b0, c, 1, 1, 1)),
            ("b1a", (b1a, c, 1, 1, 1)),
            ("b1b", (b1b, b1a, 3, 3, 3)),
            ("b2a", (b2a, c, 1, 1, 1)),
            ("b2b", (b2b, b2a, 3, 3, 3)),
            ("b3b", (b3b, c, 1, 1, 1)),
        ):
            shapes.update(_unit_shapes(f"{name}.{branch}", shape))
        c = b0 + b1b + b2b + b3b
    if classes:
        shapes["logits.conv3d.weight"] = (classes, c, 1, 1, 1)
        shapes["logits.conv3d.bias"] = (classes,)
    return shapes


def build_i3d(state: Mapping, path: PathLike | None = None) -> InceptionI3d:
    """An :class:`InceptionI3d` holding ``state`` exactly (batch-norm counters may be absent)."""
    model = InceptionI3d(state, path)
    fit_state_dict(model, fill_batchnorm_counters(dict(state), model), path or "state dict", WHAT)
    return model.eval()


class I3DFeatures:
    """The ``i3d`` extractor: clips (N, 16, H, W, 3) uint8 → (N, ``dim``) float32 (1024)."""

    name = WHAT
    input_size = (224, 224)
    clip_frames = 16
    clip_rate = 16.0

    def __init__(self, weights: PathLike | None, *, device: str = "auto", batch: int = 4) -> None:
        from instructvid.runtime import resolve_device

        if weights is None:
            raise WeightsError(
                "i3d needs the I3D RGB weights (rgb_imagenet.pt of the pytorch-i3d port): "
                "give them with --weights"
            )
        self.weights = Path(weights)
        self.device = resolve_device(device)
        self.model = build_i3d(load_state_dict(self.weights, WHAT), self.weights).to(self.device)
        self.dim = int(self.model.dim)
        self.batch = max(
            1, min(int(batch), 4)
        )  # a row is 16 frames of 224 × 224: keep batches small

    def __call__(self, clips: np.ndarray) -> np.ndarray:
        """(N, T, H, W, 3) uint8 clips → (N, ``dim``) float32 (frames resized to 224 × 224)."""
        arr = np.asarray(clips)
        if arr.ndim != 5 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
            raise ValueError(f"expected uint8 clips (N, T, H, W, 3), got {arr.dtype} {arr.shape}")
        arr = resize_frames(arr, self.input_size)
        return forward_batches(
            self.model,
            arr,
            batch=self.batch,
            device=self.device,
            dim=self.dim,
            to_input=lambda x: x.permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0,
        )
