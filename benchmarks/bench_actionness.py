"""Benchmark of actionness training (``instructvid.actionness.train``).

Run ``python benchmarks/bench_actionness.py [--videos 400] [--seconds 300] [--dim 1024]``.
Writes random per-second features of ``--videos`` videos into a temporary folder, builds the
cumulative-sum store (timed), trains the thesis configuration (M = 5, batch 1024, range 120 s)
for a few epochs and reports training sequences per second (median over the epochs after the
first, which includes one-off compilation) and the peak resident set size of the process.
Both training engines are timed (``fused``, the CPU default, and ``torch``). Prints a markdown section and writes / replaces the ``## Actionness training`` section of
``BENCHMARKS.md`` at the repository root (other sections are kept).

Peak RSS counts the pages of the memory-mapped store that training touched (the kernel may
drop them under memory pressure); the store's size is reported beside it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _report import cpu_model, write_section  # benchmarks/_report.py

from instructvid.actionness.config import TrainConfig
from instructvid.actionness.train import train_actionness
from instructvid.io.crosstask import write_features

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Actionness training"
TARGET = 50_000  # sequences per second, d = 1024, M = 5, on 2 cores


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=400)
    parser.add_argument("--seconds", type=int, default=300, help="mean video length (s)")
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--sequences-per-video", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench_actionness_") as tmp:
        tmp_path = Path(tmp)
        paths = {}
        t0 = time.perf_counter()
        for i in range(args.videos):
            n = int(rng.integers(args.seconds // 2, args.seconds * 3 // 2 + 1))
            x = rng.standard_normal((n, args.dim), dtype=np.float32)
            paths[f"v{i:05d}"] = write_features(tmp_path / "features" / f"v{i:05d}.npy", x)
        t_write = time.perf_counter() - t0
        rss_before = peak_rss_mib()

        config = TrainConfig(
            range_s=120,
            n_clips=5,
            epochs=args.epochs,
            batch_size=1024,
            sequences_per_video=args.sequences_per_video,
        )
        t0 = time.perf_counter()
        from instructvid.actionness.store import FeatureStore

        store = FeatureStore.build(tmp_path / "run" / "store", paths)
        t_store = time.perf_counter() - t0
        store_mib = (tmp_path / "run" / "store" / "cumsum.npy").stat().st_size / 2**20
        n_seconds = int(store.lengths.sum())
        runs = {}
        for engine in ("fused", "torch"):
            t0, c0 = time.perf_counter(), time.process_time()
            result = train_actionness(
                paths,
                tmp_path / f"run_{engine}",
                config=config,
                device="cpu",
                threads=args.threads,
                engine=engine,
                store_dir=tmp_path / "run" / "store",
            )
            runs[engine] = (result, time.perf_counter() - t0, time.process_time() - c0)
        rss = peak_rss_mib()

    def summary(engine: str) -> tuple[list[float], float, float, float]:
        res, wall, cpu = runs[engine]
        rates = [h["sequences_per_second"] for h in res.history]
        steady = statistics.median(rates[1:]) if len(rates) > 1 else rates[0]
        total = sum(h["sequences"] for h in res.history)
        return rates, steady, wall, total / cpu

    rates, steady, t_train, per_cpu = summary("fused")
    t_rates, t_steady, _t_wall, t_per_cpu = summary("torch")
    total_seq = sum(h["sequences"] for h in runs["fused"][0].history)
    ok = steady >= TARGET
    env = (
        f"Run {_dt.datetime.now().astimezone().isoformat(timespec='seconds')} by "
        f"`python benchmarks/bench_actionness.py`; nproc = {os.cpu_count()}; CPU: {cpu_model()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
        "device cpu. Fused engine: one compiled pass per batch (loss and analytic gradient, "
        "reading two cumulative-sum rows per clip) on a thread pool, sampling in a background "
        "thread; torch engine: the background thread gathers clip means, autograd on "
        f"{args.threads or max(1, (os.cpu_count() or 2) - 1)} torch thread(s); "
        f"load average at start {load[0]:.1f} (other processes share the machine)."
    )
    table = "\n".join(
        [
            "| quantity | value |",
            "|---|---:|",
            f"| training videos / seconds of features | {args.videos:,} / {n_seconds:,} |",
            f"| feature dimension d | {args.dim} |",
            "| clips M / batch / range d | 5 / 1024 / 120 s (clips 12 s) |",
            f"| store build (centred cumulative sums, float32) | {t_store:.1f} s, {store_mib:,.0f} MiB |",
            f"| sequences per epoch x epochs | {total_seq // args.epochs:,} x {args.epochs} |",
            f"| fused engine (default on CPU): sequences / s per epoch | {', '.join(f'{r:,.0f}' for r in rates)} |",
            f"| **fused engine: training sequences / s (median after epoch 1)** | **{steady:,.0f}** |",
            f"| fused engine: sequences per CPU-second (all threads) | {per_cpu:,.0f} |",
            f"| fused engine: whole `train_actionness` call (store reused) | {t_train:.1f} s |",
            f"| torch engine (autograd on gathered clip means): sequences / s per epoch | {', '.join(f'{r:,.0f}' for r in t_rates)} |",
            f"| torch engine: median after epoch 1 / per CPU-second | {t_steady:,.0f} / {t_per_cpu:,.0f} |",
            f"| peak RSS before / after training | {rss_before:,.0f} MiB / {rss:,.0f} MiB |",
            f"| writing the random features (not part of training) | {t_write:.1f} s |",
        ]
    )
    target = (
        f"Target: >= {TARGET:,} training sequences/s with d = {args.dim}, M = 5 on this "
        f"{os.cpu_count()}-core machine: **{steady:,.0f}/s, {'met' if ok else 'NOT met'}** "
        f"(fused engine; {per_cpu:,.0f} sequences per CPU-second over the whole call). "
        "Wall-clock rates vary with the load of the machine (see the load average above). "
        "Peak RSS includes the pages of the memory-mapped store touched by training "
        "(file-backed, reclaimable): memory does not grow with the number of videos beyond them."
    )
    section = f"{SECTION}\n\n{env}\n\n{table}\n\n{target}\n"
    print(section)
    if not args.no_write:
        print(f"wrote {write_section(SECTION, section)}", file=sys.stderr)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
