"""Saving and loading a trained actionness model (``RUN/model.pt``: weights, dimension, config)."""

from __future__ import annotations

import pickle
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from instructvid.actionness.config import TrainConfig
from instructvid.actionness.model import ActionnessModel, resolve_device
from instructvid.io.atomic import atomic_open
from instructvid.types import PathLike

__all__ = ["load_model", "save_model"]


def save_model(path: PathLike, model: ActionnessModel, config: TrainConfig, **meta: Any) -> Path:
    """Save weights, feature dimension and training config (atomically)."""
    state = {
        "dim": model.dim,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": asdict(config),
        "meta": meta,
    }
    with atomic_open(path, "wb") as handle:
        torch.save(state, handle)
    return Path(path)


def load_model(
    path: PathLike, *, device: str | torch.device = "cpu"
) -> tuple[ActionnessModel, dict[str, Any]]:
    """Load a model saved by :func:`save_model` (a file, or a RUN folder holding ``model.pt``).

    Returns:
        ``(model in eval mode, {"config": ..., "meta": ...})``.

    Raises:
        ValueError: the file holds more than weights and plain values (it is read with
            ``weights_only=True``: nothing in it is executed).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no trained model (expected RUN/model.pt from 'actionness train')"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f" ({found.group(1)})" if found else ""
        raise ValueError(
            f"{path}: refused to load: it holds objects{what} besides weights and plain values, "
            "which could run code (a model written by 'actionness train' holds none)"
        ) from None
    model = ActionnessModel(int(state["dim"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    return model.to(resolve_device(device)), {"config": state["config"], "meta": state["meta"]}
