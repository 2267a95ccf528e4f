"""Thread limit for small per-video torch work (scoring a video is one (T, d)·(d,) product).

With torch's default intra-op threads (one per core) such a product spends its time starting,
spinning and synchronising threads; on a 2-core machine busy with another job scoring was ~20×
(up to ~70×) slower than on one thread. :func:`limit_torch_threads` runs a block with at most
``n_threads`` torch threads and restores the previous count; the scores do not depend on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["limit_torch_threads"]


@contextlib.contextmanager
def limit_torch_threads(n_threads: int = 1) -> Iterator[None]:
    """Run the block with at most ``n_threads`` torch intra-op threads (restored afterwards).

    The count is process-wide (``torch.set_num_threads``): do not enter it from several Python
    threads at once. A lower count already in force is kept.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, min(int(n_threads), previous)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
