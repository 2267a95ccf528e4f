"""Weights files of the video models: read safely (``weights_only``), checked against the model.

A missing file, a file that is not a PyTorch state dict, or a state dict of another layout is a
:class:`WeightsError` naming the file and what differs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from instructvid.types import PathLike

__all__ = ["WeightsError", "file_sha256", "fit_state_dict", "load_state_dict"]


class WeightsError(ValueError):
    """A weights file that is missing or does not fit the model; the message names it."""


def file_sha256(path: PathLike) -> str:
    """Hex SHA-256 of a file (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict(path: PathLike, what: str) -> dict:
    """A PyTorch state dict read safely (``weights_only``) from ``path``; errors name the file."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file for {what} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(
            f"{path}: not a PyTorch weights file for {what} ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: expected a state dict (name → tensor) for {what}")
    return state


def fit_state_dict(module, state: dict, path: PathLike, what: str) -> None:
    """Load ``state`` into ``module`` exactly (same names, same shapes) or name what differs."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if shapes:
            k = shapes[0]
            parts.append(
                f"{len(shapes)} of another shape (e.g. {k}: {tuple(state[k].shape)}, "
                f"expected {tuple(own[k].shape)})"
            )
        raise WeightsError(f"{path}: not weights of {what}: tensors " + "; ".join(parts))
    module.load_state_dict(state, strict=True)
