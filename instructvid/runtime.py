"""Where the models compute: the device (``--device auto|cpu|cuda``) and thread limits.

Shared by the capabilities (like :mod:`instructvid.parallel`), so that ``steps`` and
``actionness`` resolve devices and limit threads the same way without importing each other.
torch is imported only when a GPU may be present (:func:`resolve_device`) or when some engine
already imported it (:func:`limit_threads`, :func:`limit_torch_threads`): the CPU engines of
the step model run without it.

Small per-video products (scoring a video is one (T, d)·(d,) product; a step-model batch is a
few (B, d)·(d, K) products) spend their time starting, spinning and synchronising threads with
torch's default of one thread per core: on a 2-core machine busy with another job, actionness
scoring was ~20× (up to ~70×) slower than on one thread. Results do not depend on the limits.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from threadpoolctl import threadpool_limits

__all__ = ["limit_threads", "limit_torch_threads", "resolve_device"]


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


@contextlib.contextmanager
def limit_torch_threads(n_threads: int = 1) -> Iterator[None]:
    """Run the block with at most ``n_threads`` torch intra-op threads (restored afterwards).

    The count is process-wide (``torch.set_num_threads``): do not enter it from several Python
    threads at once. A lower count already in force is kept. Imports torch.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, min(int(n_threads), previous)))
    try:
        yield
    finally:
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


def thread_budget() -> int:
    """Threads a compute library may use here: ``OMP_NUM_THREADS`` when set, else the CPU count."""
    return max(1, int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1))
