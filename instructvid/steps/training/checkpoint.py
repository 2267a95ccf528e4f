"""The training checkpoint: one ``.npz`` written atomically after every epoch, and resumed from.

Contents: ``fingerprint`` (a SHA-256 of the hyper-parameters, the feature dimension d and the
training videos with their narration intervals), ``epoch`` (epochs done), ``weight`` (M, d)
and ``bias`` (M,) float32, ``rows`` (Σ_v K_v,) int64 — the labelled second of every step of
every training video, concatenated in training-video order —, ``history`` (the JSON of the
learner's ``history_``) and the optimiser state (``adam_step``, ``adam_m{0,1}``,
``adam_v{0,1}``). A checkpoint is resumed only by a run with the same fingerprint.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_open
from instructvid.steps.training.data import TrainVideo
from instructvid.steps.training.state import TrainingState

__all__ = ["legacy_or", "load_checkpoint", "save_checkpoint", "training_fingerprint"]


def legacy_or(path: Path, legacy: Path) -> Path:
    """``path``, unless only ``legacy`` exists (checkpoints were once named ``.pt`` although
    they are ``.npz``): an interrupted run started with an older version still resumes."""
    return legacy if legacy.is_file() and not path.exists() else path


def training_fingerprint(params: Mapping[str, Any], videos: Sequence[TrainVideo], dim: int) -> str:
    """Hex SHA-256 of the learner's ``get_params()``, d and the training videos (ids, lengths,
    K and narration intervals): what a checkpoint must match to be resumed."""
    h = hashlib.sha256()
    h.update(json.dumps(params, sort_keys=True).encode())
    h.update(str(dim).encode())
    for v in videos:
        h.update(f"{v.task_id}/{v.video_id}/{v.n_frames}/{v.n_steps};".encode())
        if v.allowed is not None:
            h.update(np.ascontiguousarray(v.allowed).tobytes())
    return h.hexdigest()


def save_checkpoint(
    path: Path,
    fingerprint: str,
    ctx: TrainingState,
    rows: Sequence[np.ndarray],
    history: Sequence[Mapping[str, Any]],
) -> None:
    """Write the state after ``len(history)`` epochs to ``path`` atomically.

    ``rows`` holds each training video's (K,) labelled seconds.
    """
    weight, bias = ctx.numpy_parameters()
    arrays = {
        "fingerprint": np.array(fingerprint),
        "epoch": np.array(len(history)),
        "weight": weight,
        "bias": bias,
        "rows": np.concatenate(rows) if rows else np.zeros(0, np.int64),
        "history": np.array(json.dumps(list(history))),
        **ctx.optimizer_state(),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_open(path, "wb") as handle:
        handle.write(buffer.getvalue())


def load_checkpoint(
    path: Path, fingerprint: str, ctx: TrainingState, rows: list[np.ndarray]
) -> tuple[int, list[dict[str, Any]]]:
    """Load ``path`` into ``ctx`` (θ, optimiser) and ``rows`` (in place).

    Returns:
        ``(epochs done, history)``.

    Raises:
        ValueError: unreadable file, or a fingerprint other than ``fingerprint``.
    """
    try:
        with np.load(path, allow_pickle=False) as payload:
            state = {key: payload[key] for key in payload.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable checkpoint ({exc})") from None
    if str(state.get("fingerprint")) != fingerprint:
        raise ValueError(
            f"{path} was written by a run with other settings or other training videos; "
            "use another output folder (or delete the checkpoint to start afresh)"
        )
    ctx.load_parameters(state["weight"], state["bias"])
    ctx.load_optimizer_state(state)
    sizes = [len(r) for r in rows]
    rows[:] = [r.copy() for r in np.split(state["rows"], np.cumsum(sizes)[:-1])]
    return int(state["epoch"]), json.loads(str(state["history"]))
