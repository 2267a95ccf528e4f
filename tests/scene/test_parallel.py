"""The per-item map: local pool (in order, errors named) and Ray."""

from __future__ import annotations

import pytest

from instructvid.parallel import ItemError, parallel_map


def _square(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


def test_local_inline_and_pool_keep_order():
    seen = []
    assert parallel_map(
        _square, [0, 1, 2, 4], workers=1, progress=lambda d, n: seen.append((d, n))
    ) == [0, 1, 4, 16]
    assert seen[-1] == (4, 4)
    assert parallel_map(_square, [5, 1, 2, 4, 0], workers=2) == [25, 1, 4, 16, 0]
    assert parallel_map(_square, [], workers=2) == []


def test_a_failing_item_is_named():
    with pytest.raises(ItemError, match="three is not allowed") as info:
        parallel_map(_square, [1, 3, 2], workers=2, describe=lambda x: f"item-{x}")
    assert "item-3" in str(info.value) and list(info.value.errors) == [1]
    with pytest.raises(ValueError):
        parallel_map(_square, [1], executor="dask")


def test_ray_executor_on_a_local_instance():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        assert parallel_map(_square, [2, 0, 4], executor="ray") == [4, 0, 16]
        with pytest.raises(ItemError, match="three"):
            parallel_map(_square, [3], executor="ray")
    finally:
        ray.shutdown()


def _slow(x: int) -> int:
    import time

    time.sleep(30 if x else 0)
    return x


def test_an_interrupted_pool_is_wound_down_before_returning():
    """Ctrl-C in the parent (here: its progress callback raising KeyboardInterrupt when the
    first item is done): the workers are killed and the pool's manager thread has ended when the
    exception leaves ``parallel_map`` — at exit, Python's hook would otherwise race it over a
    pipe (a "Bad file descriptor" traceback after the Ctrl-C line)."""
    import threading
    import time

    def interrupt(done: float, total: float) -> None:
        if done >= 1:
            raise KeyboardInterrupt

    before = set(threading.enumerate())
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        parallel_map(_slow, [0, 1, 1], workers=2, progress=interrupt)
    assert time.monotonic() - start < 20  # the sleeping workers were killed, not waited for
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not left, left
