"""Benchmark of step-model training (``instructvid steps train``) on the medium synthetic world.

Run ``python benchmarks/bench_steps_train.py [--data DIR] [--big-data DIR]``. It

1. trains the default model (``--share component --related --seed 0``) with the fast engine,
2. trains the faithful reference (``--batch-videos 1 --exact-a14 autograd --lr 1e-5``: the
   authors' loop, one video per Adam step, double backward), in the same run,
3. evaluates both on the test split (recall),
4. measures peak memory with the feature cache off on the medium world and on a world with
   larger features (``--big-data``, e.g. ``synth crosstask --size medium --dim 2048``), to show
   that memory does not grow with the dataset,
5. optionally (``--full-data``, e.g. ``synth crosstask --size full --dim 3200``: the real
   release's size, about 19 GB) runs the whole default schedule there and checks the peak
   RSS against the 4 GB target,

each command in its own process (wall time, CPU time and peak RSS of that process, from
``wait4``), then prints a markdown section and writes / replaces the
``## Step-model training`` section of ``BENCHMARKS.md`` (other sections are kept).

The machine may be shared: CPU seconds are reported next to wall seconds, and the load average
is recorded.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_section  # benchmarks/_report.py

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Step-model training"
TARGET_S = 30.0  # full default run on the medium world
TARGET_FULL_RSS_MB = 4096.0  # default run on the full 3200-d world


def run(args: list[str]) -> dict[str, float]:
    """Run ``instructvid`` with ``args`` in a child process; wall, CPU and peak RSS."""
    cmd = [sys.executable, "-m", "instructvid.cli.main", *args]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"command failed: {' '.join(cmd)}\n{output}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def features_gb(data: Path, run_dir: Path) -> float:
    """Size on disk of the run's training features (GB)."""
    split = json.loads((run_dir / "split.json").read_text())
    total = 0
    for vids in split["train"].values():
        for vid in vids:
            total += (data / "crosstask_features" / f"{vid}.npy").stat().st_size
    return total / 1e9


def train_and_evaluate(data: Path, out: Path, extra: list[str]) -> dict[str, object]:
    if out.exists():
        shutil.rmtree(out)
    base = ["steps", "train", str(data), "--out", str(out), "--share", "component"]
    measured = run([*base, "--related", "--seed", "0", "--device", "cpu", *extra])
    history = json.loads((out / "history.json").read_text())
    init = [h["seconds"] for h in history if h["phase"] == "init"]
    alternate = [h["seconds"] for h in history if h["phase"] == "alternate"]
    split = json.loads((out / "split.json").read_text())
    n_videos = sum(len(v) for v in split["train"].values())
    evaluation = out / "evaluation.json"
    run(["steps", "evaluate", str(out), "--json", str(evaluation)])
    recall = json.loads(evaluation.read_text())["mean"]
    # The first epoch also reads the features from disk: report it apart.
    return {
        **measured,
        "epochs": len(history),
        "first_epoch_s": history[0]["seconds"],
        "init_s": sum(init[1:]) / max(len(init) - 1, 1),
        "alternate_s": sum(alternate) / max(len(alternate), 1),
        "videos_per_s": n_videos / (sum(alternate) / max(len(alternate), 1)),
        "n_videos": n_videos,
        "recall": recall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="medium world (generated there if absent)")
    parser.add_argument("--big-data", type=Path, help="a world with larger features (memory)")
    parser.add_argument(
        "--full-data", type=Path, help="a full-size world (default schedule, 4 GB RSS target)"
    )
    parser.add_argument("--work", type=Path, help="folder for the runs (default: a temp dir)")
    parser.add_argument("--skip-reference", action="store_true", help="fast engine only")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-steps-"))
    data = args.data or work / "medium"
    if not (data / "synth_world.json").is_file():
        run(["synth", "crosstask", "--out", str(data), "--size", "medium", "--seed", "0"])
    load_before = os.getloadavg()

    results: dict[str, dict[str, object]] = {}
    results["fast"] = train_and_evaluate(data, work / "fast", [])
    if not args.skip_reference:
        reference = ["--batch-videos", "1", "--exact-a14", "autograd", "--lr", "1e-5"]
        results["reference"] = train_and_evaluate(data, work / "reference", reference)

    memory = []
    short = ["--epochs-init", "2", "--epochs", "2", "--device", "cpu"]
    worlds = [("medium", data)] + ([("big", args.big_data)] if args.big_data else [])
    for name, world in worlds:
        dim = json.loads((world / "synth_world.json").read_text())["dim"]
        for cache in ("0", "1024"):
            out = work / f"mem-{name}-{cache}"
            if out.exists():
                shutil.rmtree(out)
            measured = run(
                ["steps", "train", str(world), "--out", str(out), *short, "--cache-mb", cache]
            )
            memory.append((name, dim, features_gb(world, out), cache, measured))
    full = None
    if args.full_data:
        dim = json.loads((args.full_data / "synth_world.json").read_text())["dim"]
        full = train_and_evaluate(args.full_data, work / "full", [])
        gb = features_gb(args.full_data, work / "full")
        memory.append(("full (whole default schedule)", dim, gb, "1024", full))
    load_after = os.getloadavg()

    env = (
        f"Run {_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')} by "
        f"`python benchmarks/bench_steps_train.py`; nproc = {os.cpu_count()}; "
        f"Python {platform.python_version()}; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (the machine is shared: compare CPU seconds). "
        "World: `synth crosstask --size medium --seed 0` (18 primary tasks × 45 videos incl. 5 "
        "validation, 65 related × 15, 256-d). Command: `steps train DATA --out RUN --share "
        "component --related --seed 0` (fast engine: defaults) and the same with "
        "`--batch-videos 1 --exact-a14 autograd --lr 1e-5` (reference: the authors' loop). "
        "Each command runs in its own process; wall and CPU include start-up, data loading and "
        "writing the model; per-epoch seconds are wall seconds from the run's history (the "
        "first epoch, which also reads the features, apart)."
    )
    lines = [
        "| engine | epochs | wall (s) | CPU (s) | 1st epoch (s) | init s/epoch | "
        "alternation s/epoch | videos/s (alternation) | peak RSS (MB) | test recall (%) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['epochs']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['first_epoch_s']:.2f} | {r['init_s']:.3f} | {r['alternate_s']:.3f} | "
            f"{r['videos_per_s']:.0f} | {r['rss_mb']:.0f} | {100 * float(r['recall']):.1f} |"
        )
    mem_lines = [
        "| world | d | training features on disk (GB) | --cache-mb | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, dim, gb, cache, m in memory:
        mem_lines.append(f"| {name} | {dim} | {gb:.2f} | {cache} | {m['rss_mb']:.0f} |")
    fast = results["fast"]
    verdict = "met" if float(fast["wall_s"]) < TARGET_S else "NOT met (see CPU seconds and load)"
    notes = [
        f"- Target: full default run < {TARGET_S:.0f} s: {fast['wall_s']:.1f} s wall, "
        f"{fast['cpu_s']:.1f} s CPU — **{verdict}**.",
    ]
    if "reference" in results:
        ref = results["reference"]
        notes.append(
            f"- Fast vs reference, same run: {float(ref['wall_s']) / float(fast['wall_s']):.0f}× "
            f"less wall time, {float(ref['alternate_s']) / float(fast['alternate_s']):.0f}× per "
            f"alternation epoch; recall {100 * float(fast['recall']):.1f} % vs "
            f"{100 * float(ref['recall']):.1f} % (fast ≥ reference: "
            f"{'yes' if float(fast['recall']) >= float(ref['recall']) else 'no'})."
        )
    if full is not None:
        ok = float(full["rss_mb"]) < TARGET_FULL_RSS_MB
        notes.append(
            f"- Full world ({full['n_videos']} training videos, 60 epochs): peak RSS "
            f"{float(full['rss_mb']):.0f} MB (target < {TARGET_FULL_RSS_MB / 1024:.0f} GB: "
            f"**{'met' if ok else 'NOT met'}**), {float(full['wall_s']):.0f} s wall, "
            f"{float(full['cpu_s']):.0f} s CPU, test recall {100 * float(full['recall']):.1f} %."
        )
    notes.append(
        "- Memory: 2 + 2 epochs per row (the full world: the whole schedule). With `--cache-mb 0` every batch is re-read from the "
        "memory-mapped files and the peak is set by one batch and the model, not by the "
        "dataset; with the default 1024 MB cache the peak is bounded by the cache."
    )
    section = (
        f"{SECTION}\n\n{env}\n\n"
        + "\n".join(lines)
        + "\n\nMemory (peak RSS of `steps train`):\n\n"
        + "\n".join(mem_lines)
        + "\n\n"
        + "\n".join(notes)
        + "\n"
    )
    print(section)
    if not args.no_write:
        print(f"written to {write_section(SECTION, section)}")


if __name__ == "__main__":
    main()
