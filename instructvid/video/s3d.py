"""The ``milnce-s3d`` slot: MIL-NCE's S3D video encoder (Miech et al. 2020), user weights.

The architecture is S3D-G as released with MIL-NCE (``s3dg.py`` of the HowTo100M S3D release),
with the same module names, so the released state dict (``s3d_howto100m.pth``) loads as it is;
its text branch (``text_module.*``) and the 512-d joint-space head (``fc.*``) are not used. The
feature is the 1024-d ``mixed_5c`` output averaged over time and space — the clip embedding the
thesis's actionness uses.

A row is a clip: row ``t`` = :attr:`MilNceS3D.clip_frames` (32) frames at
:attr:`MilNceS3D.clip_rate` (10) frames per second centred on second ``t + 0.5`` (3.2 s, the
clips MIL-NCE was trained on; at the ends of the video the first / last frame is repeated),
each 224 × 224 RGB in [0, 1].

Not tested against the real weights (they are not on a package registry); the loading code is
tested on a random state dict of the same layout, and the forward pass for shapes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from instructvid.types import PathLike

__all__ = ["S3D", "MilNceS3D"]


class SelfGating(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.fc(x.mean(dim=(2, 3, 4))))
        return weights[:, :, None, None, None] * x


class STConv3D(nn.Module):
    """Conv3d + BN + ReLU; ``separable``: a (1, k, k) spatial then a (k, 1, 1) temporal one."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0, separable=False) -> None:
        super().__init__()
        self.separable = separable
        self.relu = nn.ReLU(inplace=True)
        if separable and kernel[0] != 1:
            p = padding if isinstance(padding, int) else padding[0]
            s = stride if isinstance(stride, int) else stride[0]
            self.conv1 = nn.Conv3d(
                cin, cout, (1, kernel[1], kernel[2]), (1, s, s), (0, p, p), bias=False
            )
            self.bn1 = nn.BatchNorm3d(cout)
            self.conv2 = nn.Conv3d(cout, cout, (kernel[0], 1, 1), (s, 1, 1), (p, 0, 0), bias=False)
            self.bn2 = nn.BatchNorm3d(cout)
        else:
            self.separable = False
            self.conv1 = nn.Conv3d(cin, cout, kernel, stride, padding, bias=False)
            self.bn1 = nn.BatchNorm3d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        if self.separable:
            x = self.relu(self.bn2(self.conv2(x)))
        return x


class MaxPool3dSame(nn.Module):
    """TensorFlow's "SAME" max pooling (zero padding, more at the end)."""

    def __init__(self, kernel, stride) -> None:
        super().__init__()
        pads = []
        for k, s in zip(kernel, stride, strict=True):
            total = max(k - s, 0)
            pads.append((total // 2, total - total // 2))
        (t0, t1), (h0, h1), (w0, w1) = pads
        self.pad = nn.ConstantPad3d((w0, w1, h0, h1, t0, t1), 0)
        self.pool = nn.MaxPool3d(kernel, stride, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pad(x))


class InceptionBlock(nn.Module):
    def __init__(self, cin, b0, b1a, b1b, b2a, b2b, b3b) -> None:
        super().__init__()
        self.conv_b0 = STConv3D(cin, b0, [1, 1, 1])
        self.conv_b1_a = STConv3D(cin, b1a, [1, 1, 1])
        self.conv_b1_b = STConv3D(b1a, b1b, [3, 3, 3], padding=1, separable=True)
        self.conv_b2_a = STConv3D(cin, b2a, [1, 1, 1])
        self.conv_b2_b = STConv3D(b2a, b2b, [3, 3, 3], padding=1, separable=True)
        self.maxpool_b3 = nn.MaxPool3d((3, 3, 3), stride=1, padding=1)
        self.conv_b3_b = STConv3D(cin, b3b, [1, 1, 1])
        self.gating_b0 = SelfGating(b0)
        self.gating_b1 = SelfGating(b1b)
        self.gating_b2 = SelfGating(b2b)
        self.gating_b3 = SelfGating(b3b)
        self.output_dim = b0 + b1b + b2b + b3b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b0 = self.gating_b0(self.conv_b0(x))
        b1 = self.gating_b1(self.conv_b1_b(self.conv_b1_a(x)))
        b2 = self.gating_b2(self.conv_b2_b(self.conv_b2_a(x)))
        b3 = self.gating_b3(self.conv_b3_b(self.maxpool_b3(x)))
        return torch.cat((b0, b1, b2, b3), dim=1)


class S3D(nn.Module):
    """S3D-G video encoder with space-to-depth input: (B, 3, T, 224, 224) in [0, 1] → (B, 1024)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = STConv3D(24, 64, [2, 4, 4], stride=1, padding=(1, 2, 2))
        self.conv_2b = STConv3D(64, 64, [1, 1, 1])
        self.conv_2c = STConv3D(64, 192, [3, 3, 3], padding=1, separable=True)
        self.gating = SelfGating(192)
        self.maxpool_2a = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.maxpool_3a = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.mixed_3b = InceptionBlock(192, 64, 96, 128, 16, 32, 32)
        self.mixed_3c = InceptionBlock(256, 128, 128, 192, 32, 96, 64)
        self.maxpool_4a = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        self.mixed_4b = InceptionBlock(480, 192, 96, 208, 16, 48, 64)
        self.mixed_4c = InceptionBlock(512, 160, 112, 224, 24, 64, 64)
        self.mixed_4d = InceptionBlock(512, 128, 128, 256, 24, 64, 64)
        self.mixed_4e = InceptionBlock(512, 112, 144, 288, 32, 64, 64)
        self.mixed_4f = InceptionBlock(528, 256, 160, 320, 32, 128, 128)
        self.maxpool_5a = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        self.mixed_5b = InceptionBlock(832, 256, 160, 320, 32, 128, 128)
        self.mixed_5c = InceptionBlock(832, 384, 192, 384, 48, 128, 128)

    @staticmethod
    def space_to_depth(x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        x = x.view(b, c, t // 2, 2, h // 2, 2, w // 2, 2).permute(0, 3, 5, 7, 1, 2, 4, 6)
        return x.contiguous().view(b, 8 * c, t // 2, h // 2, w // 2)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        net = self.conv1(self.space_to_depth(video))[:, :, 1:, 1:, 1:]
        net = self.conv_2c(self.conv_2b(self.maxpool_2a(net)))
        net = self.maxpool_3a(self.gating(net))
        net = self.maxpool_4a(self.mixed_3c(self.mixed_3b(net)))
        for block in (self.mixed_4b, self.mixed_4c, self.mixed_4d, self.mixed_4e, self.mixed_4f):
            net = block(net)
        net = self.mixed_5c(self.mixed_5b(self.maxpool_5a(net)))
        return net.mean(dim=(2, 3, 4))


#: Tensors of the released file that this encoder does not use.
UNUSED_PREFIXES = ("text_module.", "fc.")


class MilNceS3D:
    """The ``milnce-s3d`` extractor: clips (N, 32, H, W, 3) uint8 → (N, 1024) float32."""

    name = "milnce-s3d"
    dim = 1024
    input_size = (224, 224)
    clip_frames = 32
    clip_rate = 10.0

    def __init__(self, weights: PathLike | None, *, device: str = "auto", batch: int = 4) -> None:
        from instructvid.runtime import resolve_device
        from instructvid.video.features import WeightsError, fit_state_dict, load_state_dict

        if weights is None:
            raise WeightsError(
                "milnce-s3d needs the MIL-NCE S3D weights (s3d_howto100m.pth from the MIL-NCE "
                "release): give them with --weights"
            )
        self.weights = Path(weights)
        state = load_state_dict(self.weights, self.name)
        state = {k: v for k, v in state.items() if not k.startswith(UNUSED_PREFIXES)}
        model = S3D()
        fit_state_dict(model, state, self.weights, self.name)
        self.device = resolve_device(device)
        self.model = model.eval().to(self.device)
        self.batch = max(1, min(int(batch), 4))

    def __call__(self, clips: np.ndarray) -> np.ndarray:
        import cv2

        from instructvid.runtime import limit_torch_threads
        from instructvid.video.features import _torch_threads

        arr = np.asarray(clips)
        if arr.ndim != 5 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
            raise ValueError(f"expected uint8 clips (N, T, H, W, 3), got {arr.dtype} {arr.shape}")
        w, h = self.input_size
        out = []
        with torch.inference_mode(), limit_torch_threads(_torch_threads()):
            for i in range(0, len(arr), self.batch):
                part = arr[i : i + self.batch]
                if part.shape[2:4] != (h, w):
                    part = np.stack(
                        [
                            [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in c]
                            for c in part
                        ]
                    )
                x = torch.from_numpy(np.ascontiguousarray(part)).to(self.device)
                x = x.permute(0, 4, 1, 2, 3).float() / 255.0  # (B, 3, T, H, W)
                out.append(self.model(x).float().cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(out).astype(np.float32)
