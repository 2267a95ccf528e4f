"""A per-item map over videos: a local process pool by default, a Ray cluster when asked.

``parallel_map(fn, items, executor="local", workers=None, progress=None)`` returns
``[fn(item) for item in items]`` in the order of ``items``; ``fn`` must be a picklable top-level
function. ``progress(done, total)`` is called in the parent as items finish.

With ``item_progress=True`` ``fn`` is called as ``fn(item, report)``: ``report(done, total)``
tells the parent how far the item's own work is (e.g. images of a reconstruction), and
``progress`` then moves inside items too (``done`` is fractional: items finished plus the
finished part of the running ones). Local workers send their reports through one
:class:`multiprocessing.SimpleQueue` that the parent reads while it waits; ``ray`` items report
nothing before they finish.

- ``local``: a :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method
  (safe with libraries that start threads: pycolmap, torch); ``workers=1`` runs in this process.
- ``ray``: one Ray task per item (``ray.remote(num_cpus=cpus_per_item)``); joins the cluster at
  ``ray_address`` (or ``RAY_ADDRESS``) or starts a local instance when none is running. Needs the
  ``ray`` extra.

An exception in one item is re-raised in the parent, naming the item, after the others finished
(what finished stays written: the stage functions skip it when run again). Local workers ignore
Ctrl-C; on Ctrl-C the parent kills them at once (they may be deep in native code) and raises
:class:`KeyboardInterrupt`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from instructvid.interrupt import children_ignore_sigint, ignore_sigint, kill_processes
from instructvid.types import ProgressCallback

__all__ = ["EXECUTORS", "ItemError", "parallel_map"]

T = TypeVar("T")
R = TypeVar("R")
EXECUTORS = ("local", "ray")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class ItemError(RuntimeError):
    """Raised when an item failed; ``errors`` maps item index → the exception text."""

    def __init__(self, message: str, errors: dict[int, str]):
        super().__init__(message)
        self.errors = errors


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def parallel_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    executor: str = "local",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    ray_address: str | None = None,
    cpus_per_item: float = 1.0,
    describe: Callable[[T], str] = repr,
    item_progress: bool = False,
) -> list[R]:
    """``[fn(x) for x in items]`` computed in parallel (``[fn(x, report) ...]`` with
    ``item_progress``); see the module docstring."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {EXECUTORS}")
    total = len(items)
    results: list[Any] = [None] * total
    errors: dict[int, str] = {}
    if progress:
        progress(0, total)
    if total == 0:
        return []
    if executor == "ray":
        _run_ray(fn, items, results, errors, progress, ray_address, cpus_per_item, item_progress)
    else:
        n = min(workers or _default_workers(), total)
        if n <= 1:
            for i, item in enumerate(items):
                try:
                    if item_progress:
                        results[i] = fn(item, _inline_report(progress, i, total))  # type: ignore[call-arg]
                    else:
                        results[i] = fn(item)
                except Exception as exc:
                    errors[i] = f"{type(exc).__name__}: {exc}"
                if progress:
                    progress(i + 1, total)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            ctx = multiprocessing.get_context("spawn")
            reports = ctx.SimpleQueue() if item_progress and progress else None
            # split the cores between the workers: BLAS/OpenMP pools sized for the whole machine
            # in every worker would oversubscribe it (children read these when they start)
            threads = str(max(1, _default_workers() // n))
            saved = {k: os.environ.get(k) for k in _THREAD_VARS}
            for k in _THREAD_VARS:
                os.environ.setdefault(k, threads)
            try:
                # Workers ignore Ctrl-C (no traceback per worker): the parent gets it and kills
                # them, without waiting for native code (pycolmap) to return.
                with children_ignore_sigint():
                    pool = ProcessPoolExecutor(
                        max_workers=n,
                        mp_context=ctx,
                        initializer=_start_worker,
                        initargs=(reports,),
                    )
                    if item_progress:
                        futures = {
                            pool.submit(_call_reporting, fn, i, item): i
                            for i, item in enumerate(items)
                        }
                    else:
                        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            try:
                if reports is not None:
                    _collect_reporting(futures, results, errors, reports, progress, total)
                else:
                    for done, future in enumerate(as_completed(futures), start=1):
                        i = futures[future]
                        try:
                            results[i] = future.result()
                        except Exception as exc:
                            errors[i] = f"{type(exc).__name__}: {exc}"
                        if progress:
                            progress(done, total)
            except BaseException:  # Ctrl-C (or a failing callback): stop the workers now
                kill_processes(getattr(pool, "_processes", {}).values())
                manager = getattr(pool, "_executor_manager_thread", None)
                pool.shutdown(wait=False, cancel_futures=True)
                # The pool's manager thread closes its wake-up pipe when it sees the killed
                # workers; Python's exit hook writes to that pipe, so both racing at exit is an
                # "OSError: Bad file descriptor" traceback. Let it finish first (it only notices
                # dead processes: well under a second; bounded below the hard stop's grace).
                if manager is not None and manager.is_alive():
                    manager.join(timeout=1.5)
                raise
            pool.shutdown()
    if errors:
        lines = "; ".join(f"{describe(items[i])}: {msg}" for i, msg in sorted(errors.items()))
        raise ItemError(f"{len(errors)} of {total} items failed: {lines}", errors)
    return results


#: The queue a local worker sends its items' ``(index, done, total)`` reports to (set when the
#: worker starts; ``None``: nobody listens).
_REPORTS: Any = None


def _start_worker(reports: Any) -> None:
    global _REPORTS
    ignore_sigint()
    _REPORTS = reports


def _send_report(index: int, done: float, total: float) -> None:
    if _REPORTS is not None and total > 0:
        try:  # written at once (no feeder thread): a parent gone after Ctrl-C is ignored
            _REPORTS.put((index, done, total))
        except (OSError, ValueError):
            pass


def _call_reporting(fn: Callable[..., R], index: int, item: Any) -> R:
    return fn(item, partial(_send_report, index))


def _no_report(done: float, total: float) -> None:
    return None


def _without_report(fn: Callable[..., R], item: Any) -> R:
    return fn(item, _no_report)


def _inline_report(progress: ProgressCallback | None, index: int, total: int) -> ProgressCallback:
    """An item's ``report`` in this process: ``progress(index + done / its_total, total)``."""
    if progress is None:
        return _no_report

    def report(done: int, item_total: int) -> None:
        if item_total > 0:
            progress(index + min(done / item_total, 1.0), total)  # type: ignore[arg-type]

    return report


def _collect_reporting(futures, results, errors, reports, progress, total) -> None:
    """Wait for the futures, reading the workers' reports meanwhile; ``progress`` gets items
    finished plus the reported fraction of the running ones."""
    from concurrent.futures import FIRST_COMPLETED, wait

    fraction = [0.0] * total
    pending = set(futures)
    shown = -1.0
    while pending:
        finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        while not reports.empty():  # the only reader: empty() then get() does not block
            i, done, item_total = reports.get()
            if fraction[i] < 1.0:
                fraction[i] = min(float(done) / float(item_total), 1.0)
        for future in finished:
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as exc:
                errors[i] = f"{type(exc).__name__}: {exc}"
            fraction[i] = 1.0
        now = sum(fraction)
        if now != shown:
            shown = now
            progress(now, total)


def _run_ray(fn, items, results, errors, progress, address, cpus_per_item, item_progress) -> None:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("--executor ray needs Ray: pip install 'instructvid[ray]'") from exc
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
    if item_progress:  # its reports go nowhere: the item counts when it finishes
        remote = ray.remote(num_cpus=cpus_per_item, max_retries=0)(_without_report)
        pending = {remote.remote(fn, item): i for i, item in enumerate(items)}
    else:
        remote = ray.remote(num_cpus=cpus_per_item, max_retries=0)(fn)
        pending = {remote.remote(item): i for i, item in enumerate(items)}
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            i = pending.pop(ref)
            try:
                results[i] = ray.get(ref)
            except Exception as exc:
                cause = getattr(exc, "cause", None) or exc
                errors[i] = f"{type(cause).__name__}: {cause}"
            done += 1
            if progress:
                progress(done, len(items))
