"""``steps run`` on generated narrated videos: recall against the ground truth beside the uniform
baseline over seeds, wall time per stage, and the features stage on 20 videos with the process
pool vs Ray. Rewrites the ``## steps run`` section of BENCHMARKS.md (unless ``--no-write``).

    python benchmarks/bench_steps_run.py --seeds 0 1 2 --work /tmp/bench_steps_run
    python benchmarks/bench_steps_run.py --extractor tiny --seeds 0 --no-write   # quick look

Each seed generates ``synth videos --seed S --tasks 3 --videos-per-task 10`` (30 videos, three
of them bad) and runs the pipeline with default settings; finished work in ``--work`` is reused.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import cpu_model, write_section

from instructvid.steps.pipeline import RunSettings, run_pipeline
from instructvid.steps.pipeline.evaluate import evaluate_steps
from instructvid.synth.videos import VideoSettings, generate_videos

TITLE = "## steps run"


def one_seed(work: Path, seed: int, extractor: str, tasks: int, per_task: int) -> dict:
    """Generate the videos of ``seed``, run the pipeline, evaluate; timings in seconds."""
    data = work / f"data_s{seed}"
    generate_videos(data, VideoSettings(seed=seed, tasks=tasks, videos_per_task=per_task))
    run = work / f"run_{extractor}_s{seed}"
    result = run_pipeline(
        data / "videos", data / "tasks.txt", data / "videos.csv", run,
        RunSettings(extractor=extractor, seed=seed), subtitles=data / "subtitles",
    )  # fmt: skip
    scores = evaluate_steps(run, data / "annotations")
    durations = json.loads((data / "synth_videos.json").read_text())["videos"]
    return {
        "seed": seed,
        "recall": scores["recall"]["mean"],
        "uniform": scores["uniform"]["mean"],
        "per_task": scores["recall"]["per_task"],
        "n_videos": scores["recall"]["n_videos"],
        "video_seconds": sum(v["duration"] for v in durations.values()),
        "stages": {k: v["seconds"] for k, v in result.stages.items()},
        "problems": [(p.video, p.stage, p.skipped) for p in result.problems],
    }


def pool_vs_ray(work: Path, extractor: str, n: int = 20) -> dict:
    """Features of ``n`` videos with the local process pool and with a local Ray instance."""
    from instructvid.video.extract import extract_features

    data = work / "data_s0"
    good = sorted(p for p in (data / "videos").glob("*.mp4") if p.stat().st_size > 10000)[:n]
    out = {}
    for executor in ("local", "ray"):
        folder = work / f"pool_vs_ray_{extractor}_{executor}"
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        extract_features(good, folder, extractor=extractor, executor=executor, workers=2)
        out[executor] = time.perf_counter() - start
    import numpy as np

    out["identical"] = all(
        np.array_equal(
            np.load(work / f"pool_vs_ray_{extractor}_local" / f"{p.stem}.npy"),
            np.load(work / f"pool_vs_ray_{extractor}_ray" / f"{p.stem}.npy"),
        )
        for p in good
    )
    out["n"] = len(good)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--extractor", default="efficientnet-lite0")
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--videos-per-task", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_steps_run"))
    parser.add_argument("--ray", action="store_true", help="Also time process pool vs Ray.")
    parser.add_argument("--no-write", action="store_true", help="Do not rewrite BENCHMARKS.md.")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for seed in args.seeds:
        row = one_seed(args.work, seed, args.extractor, args.tasks, args.videos_per_task)
        print(json.dumps(row), flush=True)
        rows.append(row)
    ray = pool_vs_ray(args.work, args.extractor) if args.ray else None
    if ray:
        print(json.dumps({"pool_vs_ray": ray}), flush=True)
    text = _section(rows, ray, args)
    print(text)
    if not args.no_write:
        write_section(TITLE, text)


def _section(rows: list[dict], ray: dict | None, args: argparse.Namespace) -> str:
    def mean_sd(values: list[float]) -> str:
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{100 * statistics.mean(values):.1f} ± {100 * sd:.1f}"

    stages = list(rows[0]["stages"])
    lines = [
        TITLE,
        "",
        f"`python benchmarks/bench_steps_run.py --seeds {' '.join(map(str, args.seeds))} "
        f"--extractor {args.extractor}` on {cpu_model()} (2 cores, shared with other jobs). "
        f"`synth videos --tasks {args.tasks} --videos-per-task {args.videos_per_task}` per seed "
        "(96×96, 4 fps; three bad videos each), then `steps run` with default settings; recall "
        "of `RUN/steps` against `annotations/` (CrossTask recall, %), beside the uniform "
        "placement on the same videos.",
        "",
        "| seed | videos scored | video (s) | recall | uniform | "
        + " | ".join(f"{s} (s)" for s in stages)
        + " |",
        "|---" * (5 + len(stages)) + "|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['n_videos']} | {r['video_seconds']:.0f} | "
            f"{100 * r['recall']:.1f} | {100 * r['uniform']:.1f} | "
            + " | ".join(f"{r['stages'][s]:.1f}" for s in stages)
            + " |"
        )
    lines.append(
        f"| **mean ± sd** | | | **{mean_sd([r['recall'] for r in rows])}** | "
        f"{mean_sd([r['uniform'] for r in rows])} |" + " |" * len(stages)
    )
    if ray:
        lines += [
            "",
            f"Features of {ray['n']} videos ({args.extractor}): process pool (2 workers) "
            f"{ray['local']:.1f} s, local Ray {ray['ray']:.1f} s (Ray / pool = "
            f"{ray['ray'] / ray['local']:.2f}); arrays identical: {ray['identical']}.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
