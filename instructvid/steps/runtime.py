"""Where training and prediction compute: the device (``auto``/``cpu``/``cuda``) and thread limits.

torch is imported only when a GPU may be present (:func:`resolve_device`) or when some engine
already imported it (:func:`limit_threads`): the CPU engines run without it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from threadpoolctl import threadpool_limits

__all__ = ["limit_threads", "resolve_device"]


@contextlib.contextmanager
def limit_threads(n_threads: int = 1) -> Iterator[None]:
    """Run torch and the BLAS under numpy with ``n_threads`` threads, restored afterwards.

    The per-batch products here are small: with more threads most time goes to spinning and
    synchronising (and on a shared machine to waiting for a core).
    """
    torch = sys.modules.get("torch")  # only if some engine imported it
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(max(1, int(n_threads)))
    try:
        with threadpool_limits(limits=max(1, int(n_threads))):
            yield
    finally:
        if torch is not None and previous is not None:
            torch.set_num_threads(previous)


def resolve_device(name: str) -> str:
    """``"cpu"`` or ``"cuda"`` for ``--device auto|cpu|cuda`` (torch is imported only when a
    GPU may be present)."""
    if name == "cpu":
        return "cpu"
    if name not in ("auto", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {name!r}")
    if name == "auto" and not (
        os.path.exists("/proc/driver/nvidia/version") or os.environ.get("CUDA_VISIBLE_DEVICES")
    ):
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if name == "cuda":
        raise ValueError("--device cuda asked but CUDA is not available (use cpu or auto)")
    return "cpu"
