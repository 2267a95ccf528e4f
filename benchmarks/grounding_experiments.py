"""The grounding experiments of docs/scene.md: synthetic worlds of 3 seeds, every point source and
encoder mode, all videos vs one video per scene, evaluated beside thesis Fig. 5.7 / Table 5.1.

    python benchmarks/grounding_experiments.py OUT [--seeds 0 1 2] [--worlds PREFIX]
    python benchmarks/grounding_experiments.py OUT --sfm real [--seeds 0 1 2] [--workers 2]

Writes ``OUT/results-<seeds>.json`` (per configuration and seed: PCK at 30 cm, class average, per-class
PCK, curves) and ``OUT/grounding_pck.png`` (curves averaged over the seeds, with chance).
Worlds are generated (``instructvid synth grounding`` defaults) unless ``PREFIX<seed>`` exists.

``--sfm real`` grounds through the real pipeline instead of the oracle reconstructions: every
scene's videos go through ``scene reconstruct`` (frames sampled from the videos) and ``scene
align``, then centre points with MiniLM frozen (``grounding_real.TRAIN``) are trained and evaluated with
the ground-truth cameras; the oracle route runs on the same world for comparison. Worlds are
``synth grounding --sfm-ready`` ones (see ``REAL_WORLD``) under ``PREFIX-real<seed>``. Writes
``OUT/real/results-<seeds>.json`` and ``OUT/real/summary.md`` (per seed: PCK@30 real / oracle /
chance, registered frames and videos, camera residuals, wall and CPU seconds of each stage).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from instructvid.runtime import limit_torch_threads
from instructvid.scene.evaluate import plot_pck_curves
from instructvid.scene.ground_eval import THRESHOLDS_CM, evaluate
from instructvid.scene.ground_model import TrainConf
from instructvid.scene.ground_run import ground
from instructvid.scene.grounding import GroundConf
from instructvid.synth.grounding import SFM_READY, generate_grounding

#: The world of the real route (``synth grounding --sfm-ready``); see docs/scene.md.
REAL_WORLD: dict = dict(SFM_READY)

CONFIGS: dict[str, dict] = {
    "centre, MiniLM fine-tuned": {},
    "centre, MiniLM frozen": {"train": {"freeze_encoder": True, "lr_head": 3e-2, "epochs": 16}},
    "centre, tfidf": {"train": {"text": "tfidf", "lr_head": 3e-2, "epochs": 16}},
    "hand, MiniLM fine-tuned": {"points": "hand"},
    "centre, MiniLM fine-tuned, 1 video/scene": {"videos_per_scene": 1},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--worlds", default="/tmp/gw_s")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--plot-only", action="store_true", help="Merge OUT/results*.json and plot.")
    ap.add_argument("--sfm", choices=["oracle", "real"], default="oracle")
    ap.add_argument("--workers", type=int, default=2, help="Parallel videos of scene reconstruct.")
    args = ap.parse_args()
    if args.sfm == "real":
        from grounding_real import run_real

        run_real(args.out / "real", args.seeds, args.worlds, args.threads, args.workers, REAL_WORLD)
        return
    results: dict[str, dict] = {}
    path = args.out / f"results-{'-'.join(map(str, args.seeds))}.json"
    if path.exists():
        results = json.loads(path.read_text())
    if args.plot_only:
        for other in sorted(args.out.glob("results*.json")):
            results.update(json.loads(other.read_text()))
        args.seeds = []
    with limit_torch_threads(args.threads):
        for seed in args.seeds:
            world = Path(f"{args.worlds}{seed}")
            generate_grounding(world, seed=seed)
            scenes = sorted(str(p) for p in world.glob("car_*/recon"))
            for name, cfg in CONFIGS.items():
                key = f"{name} | seed {seed}"
                if key in results:
                    continue
                run = (
                    args.out
                    / "runs"
                    / f"s{seed}"
                    / name.replace(" ", "_").replace(",", "").replace("/", "per")
                )
                train = TrainConf(seed=seed, **cfg.get("train", {}))
                conf = GroundConf(points=cfg.get("points", "center"))
                summary = ground(
                    scenes,
                    world,
                    run,
                    conf=conf,
                    train=train,
                    hands=world if conf.points == "hand" else None,
                    videos_per_scene=cfg.get("videos_per_scene"),
                )
                pck = json.loads(
                    evaluate(
                        run,
                        world / "objects.json",
                        world / "queries.csv",
                        run / "eval",
                        gt_cameras=world,
                    ).read_text()
                )
                total = json.loads(summary.read_text())["total"]
                results[key] = {
                    "config": name,
                    "seed": seed,
                    "pairs": total["training_pairs"],
                    "mean": pck["mean"],
                    "class_average": pck["class_average"],
                    "per_class": pck["per_class"],
                    "chance_mean": pck["chance"]["mean"],
                    "chance_per_class": pck["chance"]["per_class"],
                    "curve": pck["curve"],
                    "chance_curve": pck["chance"]["curve"],
                }
                print(
                    f"{key}: pairs {total['training_pairs']}, PCK@30 {pck['mean']:.3f} (chance {pck['chance']['mean']:.3f})",
                    flush=True,
                )
                args.out.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(results, indent=1))
    curves = {}
    for name in CONFIGS:
        rows = [r for r in results.values() if r["config"] == name]
        if rows:
            curves[f"{name} (PCK@30 {np.mean([r['mean'] for r in rows]):.2f})"] = np.mean(
                [r["curve"] for r in rows], axis=0
            )
    chance_rows = [r for r in results.values() if r["config"] == next(iter(CONFIGS))]
    curves["chance"] = np.mean([r["chance_curve"] for r in chance_rows], axis=0)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "summary.md").write_text(_summary(results))
    plot_pck_curves(
        curves,
        THRESHOLDS_CM,
        args.out / "grounding_pck.png",
        title="3D text grounding, 3 synthetic worlds (cf. thesis Fig. 5.7)",
    )


def _summary(results: dict) -> str:
    """Markdown: per configuration, mean ± std over seeds; per class for the first one."""
    from instructvid.scene.ground_eval import THESIS_AVERAGE, THESIS_TABLE_51

    lines = [
        "| configuration | seeds | training pairs | PCK@30 (all queries) | class average | chance |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in CONFIGS:
        rows = [r for r in results.values() if r["config"] == name]
        if not rows:
            continue

        def ms(key: str, rows=rows) -> str:
            v = [r[key] for r in rows]
            return f"{np.mean(v):.2f} ± {np.std(v):.2f}"

        lines.append(
            f"| {name} | {len(rows)} | {np.mean([r['pairs'] for r in rows]):.0f} | {ms('mean')} | "
            f"{ms('class_average')} | {ms('chance_mean')} |"
        )
    first = [r for r in results.values() if r["config"] == next(iter(CONFIGS))]
    classes = list(THESIS_TABLE_51)
    lines += [
        "",
        "| PCK at 30 cm | " + " | ".join(c.replace("_", " ") for c in classes) + " | Average |",
        "|---" * (len(classes) + 2) + "|",
        "| Chance (thesis) | "
        + " | ".join(f"{THESIS_TABLE_51[c][0]:.2f}" for c in classes)
        + f" | {THESIS_AVERAGE[0]:.2f} |",
        "| Ours (thesis) | "
        + " | ".join(f"{THESIS_TABLE_51[c][1]:.2f}" for c in classes)
        + f" | {THESIS_AVERAGE[1]:.2f} |",
    ]
    for label, key in (
        ("Chance (synthetic, exact)", "chance_per_class"),
        (next(iter(CONFIGS)), "per_class"),
    ):
        vals = [np.mean([r[key][c] for r in first]) for c in classes]
        lines.append(
            f"| {label} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {np.mean(vals):.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
