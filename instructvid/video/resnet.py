"""The ``resnet152`` slot: ResNet-152 (He et al. 2016), ImageNet, one frame per row.

The module names are torchvision's (``conv1 bn1 layer1 … layer4 fc``; bottleneck blocks
``layerI.J.conv1/bn1/conv2/bn2/conv3/bn3`` and ``downsample.0/.1``), so torchvision's released
``resnet152-*.pth`` loads as it is. The network is built from the shapes of the state dict
(widths and block counts read from the tensors; the strides are the architecture's: the 3 × 3
convolution of each stage's first block strides 2 from ``layer2`` on), so a small state dict with
the same names builds a small ResNet. The feature is the 2048-d global average pool of
``layer4`` (the ``fc`` classifier is loaded, so that the file fits exactly, but not used).

Row ``t`` = the frame of second ``t`` (the first frame at or after ``t`` s, like the other frame
models), the whole picture resized to 224 × 224 and normalised with ImageNet's mean and
standard deviation, as torchvision's weights expect.

Not tested against the real weights (not on a package registry); the loading code is tested on
random state dicts of the release's layout, the full-size layout's parameter count against
torchvision's published figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from instructvid.types import PathLike
from instructvid.video.nets import (
    check_frames,
    fill_batchnorm_counters,
    forward_batches,
    resize_frames,
    shape_of,
)
from instructvid.video.weights import WeightsError, fit_state_dict, load_state_dict

__all__ = ["ResNet", "ResNetFeatures", "build_resnet", "release_shapes"]

WHAT = "resnet152"
STAGES = ("layer1", "layer2", "layer3", "layer4")
#: ImageNet's per-channel mean and standard deviation (RGB, of pixels in [0, 1]).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _bn(n: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(n)


class Bottleneck(nn.Module):
    """1×1 → 3×3 (stride) → 1×1 convolutions, each with batch norm, plus the shortcut."""

    def __init__(self, state: Mapping, prefix: str, cin: int, stride: int, path) -> None:
        super().__init__()
        shapes = [shape_of(state, f"{prefix}.conv{i}.weight", path, WHAT, 4) for i in (1, 2, 3)]
        given = cin
        for i, shape in enumerate(shapes, 1):
            if shape[1] != given:
                raise WeightsError(
                    f"{path or 'state dict'}: not weights of {WHAT}: {prefix}.conv{i}.weight "
                    f"takes {shape[1]} channels, the layer before gives {given}"
                )
            given = shape[0]
        (c1, _, k1, _), (c2, _, k2, _), (c3, _, k3, _) = shapes
        self.conv1 = nn.Conv2d(cin, c1, k1, bias=False)
        self.bn1 = _bn(c1)
        self.conv2 = nn.Conv2d(c1, c2, k2, stride, padding=k2 // 2, bias=False)
        self.bn2 = _bn(c2)
        self.conv3 = nn.Conv2d(c2, c3, k3, bias=False)
        self.bn3 = _bn(c3)
        self.downsample = None
        if f"{prefix}.downsample.0.weight" in state:
            self.downsample = nn.Sequential(nn.Conv2d(cin, c3, 1, stride, bias=False), _bn(c3))
        self.out_channels = c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(y + shortcut)


class ResNet(nn.Module):
    """A bottleneck ResNet built from a state dict's shapes: (B, 3, H, W) normalised → (B,
    ``dim``), the global average pool of ``layer4`` (``dim`` = 2048 for ResNet-152).

    Raises:
        WeightsError: naming ``path`` when a tensor the layout needs is missing or the widths
            do not chain.
    """

    def __init__(self, state: Mapping, path: PathLike | None = None) -> None:
        super().__init__()
        c0, cin, k, _ = shape_of(state, "conv1.weight", path, WHAT, 4)
        self.conv1 = nn.Conv2d(cin, c0, k, 2, padding=k // 2, bias=False)
        self.bn1 = _bn(c0)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = c0
        for index, stage in enumerate(STAGES):
            blocks = _block_count(state, stage, path)
            layers = []
            for j in range(blocks):
                stride = 2 if index > 0 and j == 0 else 1
                block = Bottleneck(state, f"{stage}.{j}", c, stride, path)
                layers.append(block)
                c = block.out_channels
            self.add_module(stage, nn.Sequential(*layers))
        self.dim = c
        self.fc = None
        if "fc.weight" in state:  # the classifier: loaded, not used for features
            classes, given = shape_of(state, "fc.weight", path, WHAT, 2)
            self.fc = nn.Linear(given, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(images))))
        for stage in STAGES:
            x = getattr(self, stage)(x)
        return x.mean(dim=(2, 3))


def _block_count(state: Mapping, stage: str, path) -> int:
    pattern = re.compile(rf"{stage}\.(\d+)\.")
    found = {int(m.group(1)) for key in state if (m := pattern.match(key))}
    if not found:
        shape_of(state, f"{stage}.0.conv1.weight", path, WHAT)  # raises: names the tensor
    n = max(found) + 1
    for j in range(n):  # a hole in the numbering: name the first missing block
        shape_of(state, f"{stage}.{j}.conv1.weight", path, WHAT)
    return n


def _conv_bn(prefix_conv: str, prefix_bn: str, shape) -> dict[str, tuple[int, ...]]:
    n = (shape[0],)
    return {
        f"{prefix_conv}.weight": tuple(shape),
        f"{prefix_bn}.weight": n,
        f"{prefix_bn}.bias": n,
        f"{prefix_bn}.running_mean": n,
        f"{prefix_bn}.running_var": n,
        f"{prefix_bn}.num_batches_tracked": (),
    }


def release_shapes(
    blocks: tuple[int, int, int, int] = (3, 8, 36, 3), width: int = 64, classes: int | None = 1000
) -> dict[str, tuple[int, ...]]:
    """The state-dict layout (name → shape) of torchvision's bottleneck ResNet: ResNet-152 by
    default; a smaller ``width`` (stem channels) and fewer ``blocks`` for small test networks;
    ``classes`` = the ``fc`` outputs (``None``: no classifier)."""
    shapes = _conv_bn("conv1", "bn1", (width, 3, 7, 7))
    cin = width
    for index, (stage, n) in enumerate(zip(STAGES, blocks, strict=True)):
        mid = width * 2**index
        for j in range(n):
            p = f"{stage}.{j}"
            shapes.update(_conv_bn(f"{p}.conv1", f"{p}.bn1", (mid, cin, 1, 1)))
            shapes.update(_conv_bn(f"{p}.conv2", f"{p}.bn2", (mid, mid, 3, 3)))
            shapes.update(_conv_bn(f"{p}.conv3", f"{p}.bn3", (4 * mid, mid, 1, 1)))
            if j == 0:
                shapes.update(
                    _conv_bn(f"{p}.downsample.0", f"{p}.downsample.1", (4 * mid, cin, 1, 1))
                )
            cin = 4 * mid
    if classes:
        shapes["fc.weight"] = (classes, cin)
        shapes["fc.bias"] = (classes,)
    return shapes


def build_resnet(state: Mapping, path: PathLike | None = None) -> ResNet:
    """A :class:`ResNet` holding ``state`` exactly (batch-norm counters may be absent)."""
    model = ResNet(state, path)
    fit_state_dict(model, fill_batchnorm_counters(dict(state), model), path or "state dict", WHAT)
    return model.eval()


class ResNetFeatures:
    """The ``resnet152`` extractor: frames (N, H, W, 3) uint8 → (N, ``dim``) float32 (2048)."""

    name = WHAT
    input_size = (224, 224)

    def __init__(self, weights: PathLike | None, *, device: str = "auto", batch: int = 32) -> None:
        from instructvid.runtime import resolve_device

        if weights is None:
            raise WeightsError(
                "resnet152 needs torchvision's ResNet-152 ImageNet weights (resnet152-*.pth): "
                "give them with --weights"
            )
        self.weights = Path(weights)
        self.device = resolve_device(device)
        self.model = build_resnet(load_state_dict(self.weights, WHAT), self.weights)
        self.model = self.model.to(self.device)
        self.dim = int(self.model.dim)
        self.batch = max(1, int(batch))
        self._mean = torch.tensor(MEAN, device=self.device).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(STD, device=self.device).view(1, 3, 1, 1) * 255.0

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 → (N, ``dim``) float32 (frames resized to 224 × 224)."""
        arr = resize_frames(check_frames(frames), self.input_size)
        return forward_batches(
            self.model,
            arr,
            batch=self.batch,
            device=self.device,
            dim=self.dim,
            to_input=lambda x: (x.permute(0, 3, 1, 2).float() - self._mean) / self._std,
        )
