"""The ``similarity`` point source (thesis §5.4): the argmax of a text–image similarity map.

The model comes from a user path (nothing is installed with the project): a TorchScript module
called as ``model(image, text)`` with ``image`` a (1, 3, H, W) float tensor in [0, 1] (RGB) and
``text`` a string, returning an (h, w) map of similarities (14 × 8 for MIL-NCE S3D without its
last average pooling). The point is the centre of the best cell, in the frame's pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.types import PathLike

__all__ = ["argmax_cell_centre", "similarity_points"]


def argmax_cell_centre(sim: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """Pixel (u, v) of the centre of the best cell of an (h, w) map laid over a width × height
    frame."""
    m = np.asarray(sim, np.float64)
    if m.ndim != 2 or not m.size:
        raise ValueError(f"a similarity map must be 2-D and not empty, got shape {m.shape}")
    i, j = np.unravel_index(int(np.nanargmax(m)), m.shape)
    return (j + 0.5) * width / m.shape[1], (i + 0.5) * height / m.shape[0]


def similarity_points(model_path: PathLike):
    """A point source (see :mod:`instructvid.scene.grounding`) using the model at ``model_path``."""
    import torch

    path = Path(model_path)
    if not path.is_file():
        raise ValueError(f"--similarity-model {path}: no such file")
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"{path}: not a TorchScript similarity model ({exc})") from None
    model.eval()

    def source(segment, frame, video_model):
        if video_model.image_dir is None:
            return None
        import cv2

        bgr = cv2.imread(str(Path(video_model.image_dir) / frame.name), cv2.IMREAD_COLOR)
        if bgr is None:
            return None
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        image = torch.from_numpy(rgb).permute(2, 0, 1)[None]
        with torch.no_grad():
            sim = model(image, segment.text)
        return argmax_cell_centre(np.asarray(sim, np.float64), frame.width, frame.height)

    return source
