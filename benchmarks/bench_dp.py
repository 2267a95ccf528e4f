"""Benchmark of the ordered-assignment DP (``instructvid.align.dp``).

Run ``python benchmarks/bench_dp.py``. Prints a markdown table and writes /
replaces the ``## Ordered-assignment DP`` section of ``BENCHMARKS.md`` at the
repository root (other sections are kept). Single-core figures are taken with
numba pinned to one thread; times are medians over many repeats after warm-up.
A pure-NumPy reference (vectorised over states per frame) is timed in the same
run so that the speed-up ratio is meaningful on a noisy machine.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from _report import cpu_model, write_section  # benchmarks/_report.py

from instructvid.align.dp import ordered_assignment, ordered_assignment_batch

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Ordered-assignment DP"

TARGET_SINGLE_MS = 0.4  # (1000, 10) exactly-one, one core
TARGET_BATCH_S = 0.2  # 1,000 videos of (300, 7), one core


def numpy_reference(
    scores: np.ndarray, exactly_one: bool = True, maximize: bool = True
) -> np.ndarray:
    """Straightforward NumPy DP, vectorised over the 2K+1 states per frame (finite input).

    Same state machine and tie-breaking as the compiled kernel (``argmin`` keeps
    the first minimum: self-loop, then k-1, then k-2). Returns (T, K) uint8.
    """
    C = -np.asarray(scores, dtype=np.float64) if maximize else np.asarray(scores, np.float64)
    T, K = C.shape
    n = 2 * K + 1
    inf = np.inf
    is_step = np.zeros(n, dtype=bool)
    is_step[1::2] = True
    self_ok = ~is_step if exactly_one else np.ones(n, dtype=bool)
    cols = np.arange(n)
    L = np.full(n, inf)
    L[0] = 0.0
    bp = np.empty((T, n), dtype=np.int8)
    cand = np.full((3, n), inf)
    cost = np.zeros(n)
    for t in range(T):
        cand[0] = np.where(self_ok, L, inf)
        cand[1, 1:] = L[:-1]
        cand[2, 3::2] = L[1:-2:2]
        off = cand.argmin(axis=0)
        cost[1::2] = C[t]
        L = cand[off, cols] + cost
        bp[t] = off
    k = n - 1 if L[n - 1] < L[n - 2] else n - 2
    out = np.zeros((T, K), dtype=np.uint8)
    for t in range(T - 1, -1, -1):
        if k & 1:
            out[t, (k + 1) // 2 - 1] = 1
        k -= int(bp[t, k])
    return out


def median_ms(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    numba.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows: list[tuple[str, str, float, str]] = []  # (case, variant, ms, note)

    # Warm-up / compile.
    ordered_assignment(rng.normal(size=(20, 3)))
    ordered_assignment(rng.normal(size=(20, 3)), exactly_one=False)
    ordered_assignment_batch([rng.normal(size=(20, 3))])

    single = {}
    for (T, K), reps in (((300, 7), 3000), ((1000, 10), 2000), ((5000, 20), 200)):
        S = rng.normal(size=(T, K))
        for exactly_one in (True, False):
            name = "exactly-one" if exactly_one else "at-least-once"
            ms = median_ms(lambda S=S, e=exactly_one: ordered_assignment(S, exactly_one=e), reps)
            single[(T, K, exactly_one)] = ms
            rows.append((f"`ordered_assignment` ({T}, {K})", name, ms, "1 call"))

    # Pure-NumPy reference on (1000, 10), same run.
    S = rng.normal(size=(1000, 10))
    for exactly_one in (True, False):
        assert np.array_equal(
            numpy_reference(S, exactly_one), ordered_assignment(S, exactly_one=exactly_one)
        ), "numpy reference disagrees with the kernel"
    ratios = {}
    for exactly_one in (True, False):
        name = "exactly-one" if exactly_one else "at-least-once"
        ms = median_ms(lambda e=exactly_one: numpy_reference(S, e), 15, warmup=1)
        ratio = ms / single[(1000, 10, exactly_one)]
        ratios[exactly_one] = ratio
        rows.append(("pure-NumPy reference (1000, 10)", name, ms, f"numba is {ratio:.0f}x faster"))

    # Batch of 1,000 videos of (300, 7).
    videos = [rng.normal(size=(300, 7)) for _ in range(1000)]
    batch = {}
    for exactly_one in (True, False):
        name = "exactly-one" if exactly_one else "at-least-once"
        ms = median_ms(
            lambda e=exactly_one: ordered_assignment_batch(videos, exactly_one=e), 30, warmup=2
        )
        batch[exactly_one] = ms
        rows.append(("`ordered_assignment_batch`, 1,000 x (300, 7), 1 thread", name, ms, ""))
        ms = median_ms(
            lambda e=exactly_one: [ordered_assignment(v, exactly_one=e) for v in videos],
            15,
            warmup=1,
        )
        rows.append(("Python loop of `ordered_assignment`, 1,000 x (300, 7)", name, ms, ""))
    n_cpu = os.cpu_count() or 1
    if n_cpu > 1:
        ordered_assignment_batch(videos[:4], n_jobs=-1)  # compile the parallel kernel
        ms = median_ms(lambda: ordered_assignment_batch(videos, n_jobs=-1), 30, warmup=2)
        rows.append(
            (
                f"`ordered_assignment_batch`, 1,000 x (300, 7), n_jobs=-1 ({numba.config.NUMBA_NUM_THREADS} threads)",
                "exactly-one",
                ms,
                "informational",
            )
        )
        numba.set_num_threads(1)

    single_ms = single[(1000, 10, True)]
    batch_s = batch[True] / 1e3
    ok_single = single_ms <= TARGET_SINGLE_MS
    ok_batch = batch_s < TARGET_BATCH_S

    table = ["| case | variant | median time (ms) | note |", "|---|---|---:|---|"]
    for case, variant, ms, note in rows:
        table.append(f"| {case} | {variant} | {ms:.4g} | {note} |")
    table_md = "\n".join(table)

    env = (
        f"Run {_dt.datetime.now().astimezone().isoformat(timespec='seconds')} by "
        f"`python benchmarks/bench_dp.py`; nproc = {n_cpu}; CPU: {cpu_model()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}. "
        "Single-core figures with `numba.set_num_threads(1)`; random normal scores; "
        "times are medians over many repeats after warm-up (compile excluded) and include "
        "the Python wrapper (validation, conversion, output allocation)."
    )
    targets = (
        "Targets:\n\n"
        f"- (1000, 10) exactly-one <= {TARGET_SINGLE_MS} ms on one core: "
        f"**{single_ms:.4g} ms, {'met' if ok_single else 'NOT met'}**\n"
        f"- 1,000-video batch of (300, 7) < {TARGET_BATCH_S} s: "
        f"**{batch_s:.4g} s (exactly-one) / {batch[False] / 1e3:.4g} s (at-least-once), "
        f"{'met' if ok_batch else 'NOT met'}**\n"
        f"- numba vs pure-NumPy reference at (1000, 10), same run: "
        f"{ratios[True]:.0f}x (exactly-one), {ratios[False]:.0f}x (at-least-once)"
    )
    section = f"{SECTION}\n\n{env}\n\n{table_md}\n\n{targets}\n"
    print(section)
    if not args.no_write:
        print(f"wrote {write_section(SECTION, section)}", file=sys.stderr)
    if not (ok_single and ok_batch):
        sys.exit(1)


if __name__ == "__main__":
    main()
