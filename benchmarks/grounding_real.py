"""The real route of the grounding experiments (``grounding_experiments.py --sfm real``).

Per seed: a synthetic grounding world; per scene ``scene reconstruct`` of its videos (frames
sampled from the MP4s, COLMAP SfM per video) and ``scene align``; then ``scene ground`` (centre
points, MiniLM frozen, see ``TRAIN``) on the real folders and on the world's
oracle folders, both evaluated with the ground-truth cameras. Wall and CPU seconds of each stage
(CPU = this process's threads + the reconstruction's worker processes).
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np

from instructvid.scene.align import AlignConf, align
from instructvid.scene.ground_eval import evaluate
from instructvid.scene.ground_model import TrainConf
from instructvid.scene.ground_run import ground
from instructvid.scene.grounding import GroundConf
from instructvid.scene.reconstruct import reconstruct
from instructvid.scene.sfm import ReconstructConf
from instructvid.synth.grounding import generate_grounding

#: ``scene reconstruct --frames 30 --sampling uniform``: 30 of a video's ~120 frames (one a
#: second at 4 fps, so that every 2 s move between two objects keeps 2 frames), 2.8x fewer pairs
#: to match than the default 50.
RECONSTRUCT = {"n_frames": 30, "sampling": "uniform"}
#: The configuration trained on both routes: centre points, MiniLM frozen (lr and epochs of
#: docs/scene.md); fine-tuning costs ~5x more CPU on this machine.
TRAIN = {"freeze_encoder": True, "lr_head": 3e-2, "epochs": 16}


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its finished children."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class _Clock:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def __call__(self, name: str, fn, *args, **kwargs):
        t0, c0 = time.perf_counter(), _cpu()
        out = fn(*args, **kwargs)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        old = self.times.get(name, [0.0, 0.0])
        self.times[name] = [old[0] + wall, old[1] + cpu]
        return out


def sfm_scene(scene_dir: Path, out: Path, seed: int, workers: int, clock: _Clock) -> dict:
    """``scene reconstruct`` of the scene's videos into ``out``, ``scene align`` to
    ``out/graph.json``; what was registered and aligned."""
    videos = sorted((scene_dir / "videos").glob("*.mp4"))
    report = clock(
        "reconstruct",
        reconstruct,
        videos,
        out,
        ReconstructConf(seed=seed, **RECONSTRUCT),
        workers=workers,
    )
    graph_path = clock("align", align, out, out / "graph.json", AlignConf(seed=seed))
    inputs = json.loads(report.read_text())["inputs"]
    graph = json.loads(graph_path.read_text())
    connected = set(graph["to_reference"])
    return {
        "videos": len(videos),
        "videos_with_model": sum(1 for s in inputs.values() if s["models"]),
        "videos_connected": len({m.split("/")[0] for m in connected}),
        "models": sum(len(s["models"]) for s in inputs.values()),
        "models_connected": len(connected),
        "sampled_frames": sum(s["frames"] for s in inputs.values()),
        "registered_frames": sum(s["registered_images"] for s in inputs.values()),
        "registered_connected": sum(
            m["images"] for s in inputs.values() for m in s["models"] if m["id"] in connected
        ),
        "points": sum(s["points3D"] for s in inputs.values()),
        "edges": len(graph["edges"]),
        "reference": graph["reference"],
    }


#: Variants run on the same folders after the main comparison: (route, GroundConf, TrainConf
#: overrides). A wider back-projection radius (8 px at 256 × 192 is half the angle of 8 px at the
#: default 128 × 96) gives the sparse SfM models more hits; fine-tuning is the default training.
VARIANTS: dict[str, tuple[str, dict, dict | None]] = {
    "real, radius 16 px": ("real", {"radius_px": 16.0}, None),
    "real, radius 32 px": ("real", {"radius_px": 32.0}, None),
    "real, MiniLM fine-tuned": ("real", {}, {}),
    "oracle, MiniLM fine-tuned": ("oracle", {}, {}),
}


def _ground_eval(
    scenes: list[Path],
    world: Path,
    run: Path,
    seed: int,
    clock: _Clock,
    conf: dict | None = None,
    train: dict | None = None,
) -> dict:
    summary = clock(
        "ground",
        ground,
        scenes,
        world,
        run,
        conf=GroundConf(**(conf or {})),
        train=TrainConf(seed=seed, **(TRAIN if train is None else train)),
    )
    pck = json.loads(
        clock(
            "evaluate",
            evaluate,
            run,
            world / "objects.json",
            world / "queries.csv",
            run / "eval",
            gt_cameras=world,
        ).read_text()
    )
    total = json.loads(summary.read_text())["total"]
    return {
        "pairs": total["training_pairs"],
        "counts": total,
        "mean": pck["mean"],
        "chance": pck["chance"]["mean"],
        "per_class": pck["per_class"],
        "curve": pck["curve"],
        "cameras": pck.get("cameras", {}),
    }


def dwell_errors(run: Path, world: Path) -> dict:
    """Distances (cm, world frame) of the training pairs made during a dwell to the dwelled
    object, per scene: ``{"pairs", "median_cm", "within_15cm"}`` (how well centre points plus
    back-projection land, before any text model)."""
    from instructvid.scene.ground_eval import camera_fit

    out = {}
    for pairs_path in sorted((run / "pairs").glob("*.json")):
        scene = pairs_path.stem
        sim, _fit = camera_fit(run, scene, world)
        objects = json.loads((world / "objects.json").read_text())[scene]
        truth = json.loads((world / scene / "cameras.json").read_text())["videos"]
        errors = []
        for p in json.loads(pairs_path.read_text()):
            dwell = [d for d in truth[p["video"]]["dwell"] if d["start"] <= p["time"] <= d["end"]]
            if dwell:
                point = sim.inverse()(np.asarray(p["point"]))
                errors.append(100 * np.linalg.norm(point - np.asarray(objects[dwell[0]["object"]])))
        out[scene] = {
            "pairs": len(errors),
            "median_cm": float(np.median(errors)) if errors else None,
            "within_15cm": float(np.mean(np.asarray(errors) < 15)) if errors else None,
        }
    return out


def run_real(
    out: Path, seeds: list[int], worlds: str, threads: int, workers: int, world_settings: dict
) -> None:
    """Run the real and the oracle route on each seed's world; write results and a summary."""
    from instructvid.runtime import limit_torch_threads

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"results-{'-'.join(map(str, seeds))}.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    with limit_torch_threads(threads):
        for seed in seeds:
            key = f"seed {seed}"
            if key in results:
                continue
            clock = _Clock()
            world = Path(f"{worlds}-real{seed}")
            clock("world", generate_grounding, world, seed=seed, **world_settings)
            scene_dirs = sorted(p for p in world.glob("car_*") if (p / "videos").is_dir())
            sfm = {}
            real_dirs = []
            for scene_dir in scene_dirs:
                target = out / "sfm" / f"s{seed}" / scene_dir.name
                sfm[scene_dir.name] = sfm_scene(scene_dir, target, seed, workers, clock)
                real_dirs.append(target)
                print(f"seed {seed} {scene_dir.name}: {sfm[scene_dir.name]}", flush=True)
            real = _ground_eval(real_dirs, world, out / "runs" / f"s{seed}" / "real", seed, clock)
            t_real = dict(clock.times)
            oracle = _ground_eval(
                [d / "recon" for d in scene_dirs],
                world,
                out / "runs" / f"s{seed}" / "oracle",
                seed,
                _Clock(),
            )
            results[key] = {
                "seed": seed,
                "world": world_settings,
                "reconstruct": RECONSTRUCT,
                "train": TRAIN,
                "sfm": sfm,
                "real": real,
                "oracle": oracle,
                "seconds": t_real,
            }
            print(
                f"{key}: PCK@30 real {real['mean']:.3f} (chance {real['chance']:.3f}, "
                f"{real['pairs']} pairs), oracle {oracle['mean']:.3f} (chance "
                f"{oracle['chance']:.3f}, {oracle['pairs']} pairs); seconds {t_real}",
                flush=True,
            )
            path.write_text(json.dumps(results, indent=1))
    for key, r in results.items():  # added after the first runs: computed from their folders
        world = Path(f"{worlds}-real{r['seed']}")
        for route in ("real", "oracle"):
            if "dwell" not in r[route]:
                r[route]["dwell"] = dwell_errors(out / "runs" / f"s{r['seed']}" / route, world)
        variants = r.setdefault("variants", {})
        for name, (route, conf, train) in VARIANTS.items():
            if name in variants:
                continue
            scene_dirs = sorted(p for p in world.glob("car_*") if (p / "videos").is_dir())
            dirs = (
                [out / "sfm" / f"s{r['seed']}" / d.name for d in scene_dirs]
                if route == "real"
                else [d / "recon" for d in scene_dirs]
            )
            tag = name.replace(" ", "_").replace(",", "")
            run = out / "runs" / f"s{r['seed']}" / tag
            with limit_torch_threads(threads):
                variants[name] = _ground_eval(dirs, world, run, r["seed"], _Clock(), conf, train)
            variants[name]["dwell"] = dwell_errors(run, world)
            print(f"{key} {name}: PCK@30 {variants[name]['mean']:.3f}", flush=True)
            path.write_text(json.dumps(results, indent=1))
        results[key] = r
    path.write_text(json.dumps(results, indent=1))
    merged: dict = {}
    for other in sorted(out.glob("results-*.json")):
        merged.update(json.loads(other.read_text()))
    (out / "summary.md").write_text(summary_md(merged))


def summary_md(results: dict) -> str:
    """Markdown tables: PCK per seed (real, oracle, chance), the SfM per scene, the times."""
    rows = sorted(results.values(), key=lambda r: r["seed"])
    lines = [
        "| seed | PCK@30 real | chance (real model) | pairs | PCK@30 oracle | chance (oracle) | pairs |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        a, b = r["real"], r["oracle"]
        lines.append(
            f"| {r['seed']} | {a['mean']:.2f} | {a['chance']:.2f} | {a['pairs']} | "
            f"{b['mean']:.2f} | {b['chance']:.2f} | {b['pairs']} |"
        )
    if rows:

        def ms(route: str, key: str) -> str:
            v = [r[route][key] for r in rows]
            return f"{np.mean(v):.2f} ± {np.std(v):.2f}"

        lines.append(
            f"| mean ± std | {ms('real', 'mean')} | {ms('real', 'chance')} | | "
            f"{ms('oracle', 'mean')} | {ms('oracle', 'chance')} | |"
        )
    lines += [
        "",
        "| seed | scene | videos with a model / connected / all | registered frames (connected) / sampled "
        "| 3D points | edges | camera residual RMS / median / max (cm) | fit on |",
        "|---:|---|---|---|---:|---:|---|---|",
    ]
    for r in rows:
        for scene, s in r["sfm"].items():
            cam = r["real"]["cameras"].get(scene, {})
            res = (
                f"{cam['rms_cm']:.1f} / {cam['median_cm']:.1f} / {cam['max_cm']:.1f}"
                if cam
                else "–"
            )
            lines.append(
                f"| {r['seed']} | {scene} | {s['videos_with_model']} / {s['videos_connected']} / "
                f"{s['videos']} | {s['registered_frames']} ({s['registered_connected']}) / "
                f"{s['sampled_frames']} | {s['points']} | {s['edges']} | {res} | "
                f"{cam.get('fit_on', '–')} |"
            )
    lines += [
        "",
        "| seed | scene | dwell pairs real: n, median cm, within 15 cm | oracle: n, median cm, within 15 cm |",
        "|---:|---|---|---|",
    ]
    for r in rows:
        for scene in r["sfm"]:
            cells = []
            for route in ("real", "oracle"):
                d = r[route].get("dwell", {}).get(scene)
                cells.append(
                    f"{d['pairs']}, {d['median_cm']:.1f}, {d['within_15cm']:.2f}"
                    if d and d["pairs"]
                    else "–"
                )
            lines.append(f"| {r['seed']} | {scene} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        "| seed | variant | PCK@30 | chance | pairs (no hit) | dwell pairs within 15 cm |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        for name, v in r.get("variants", {}).items():
            within = [d["within_15cm"] for d in v["dwell"].values() if d["pairs"]]
            lines.append(
                f"| {r['seed']} | {name} | {v['mean']:.2f} | {v['chance']:.2f} | "
                f"{v['pairs']} ({v['counts']['no_hit']}) | {np.mean(within):.2f} |"
            )
    lines += ["", "| seed | stage | wall (s) | CPU (s) |", "|---:|---|---:|---:|"]
    for r in rows:
        for stage, (wall, cpu) in r["seconds"].items():
            lines.append(f"| {r['seed']} | {stage} | {wall:.0f} | {cpu:.0f} |")
    return "\n".join(lines) + "\n"
