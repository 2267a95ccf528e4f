"""Resumable training: the per-epoch checkpoint ``RUN/checkpoint.pt``, written and read back.

After each epoch the model, the optimiser state and the history are saved atomically, with the
run's settings (``config`` + engine) and the fingerprint of its cumulative-sum store. A run
started again with the same settings on the same videos continues after the last finished
epoch; anything else in the folder is refused with :class:`RunMismatchError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from instructvid.actionness.model import ActionnessModel
from instructvid.io.atomic import atomic_open

__all__ = ["RunMismatchError", "resume_checkpoint", "save_checkpoint"]


class RunMismatchError(ValueError):
    """``RUN`` holds a checkpoint made with other settings or other training videos."""


def resume_checkpoint(
    path: Path,
    model: ActionnessModel,
    optim: torch.optim.Optimizer,
    *,
    run_key: dict[str, Any],
    fingerprint: str,
    device: torch.device,
) -> tuple[list[dict[str, float]], int]:
    """Load the checkpoint at ``path`` (if any) into ``model`` and ``optim``.

    Returns:
        ``(history, epochs done)``; ``([], 0)`` when there is no checkpoint.

    Raises:
        RunMismatchError: the checkpoint has other settings (``run_key``) or another store.
    """
    if not path.is_file():
        return [], 0
    ckpt = torch.load(path, map_location=device, weights_only=True)
    if ckpt.get("config") != run_key or ckpt.get("store") != fingerprint:
        raise RunMismatchError(
            f"{path}: checkpoint of a run with other settings or training videos "
            f"(saved {ckpt.get('config')}); use another output folder or delete it"
        )
    model.load_state_dict(ckpt["model"])
    optim.load_state_dict(ckpt["optimizer"])
    return list(ckpt["history"]), int(ckpt["epoch"])


def save_checkpoint(
    path: Path,
    *,
    epoch: int,
    model: ActionnessModel,
    optim: torch.optim.Optimizer,
    history: list[dict[str, float]],
    run_key: dict[str, Any],
    fingerprint: str,
) -> None:
    """Write the state after ``epoch`` finished epochs to ``path`` (atomically)."""
    state = {
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optim.state_dict(),
        "history": history,
        "config": run_key,
        "store": fingerprint,
    }
    with atomic_open(path, "wb") as handle:
        torch.save(state, handle)
