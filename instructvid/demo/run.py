"""``run_demo``: every pipeline on embedded synthetic data, resumable, ending in a report.

Stages (each a progress bar; results cached in ``OUT/stages``, see :mod:`instructvid.demo.stages`):

1. synthetic CrossTask world (``DEMO_SIZE``, ``DEMO_DIM``-d features) → ``OUT/data``;
2. its check (``steps check``) and 3. Table 3.2 statistics;
4. actionness model trained on the related-task videos only → ``OUT/actionness/runs/<hash>``;
5. per-second actionness of every primary-task video → ``OUT/actionness/scores``;
6. frame AP / AR@AN against ``chance`` and ``trim0.3`` → ``OUT/actionness/eval``;
7. the split protocol for ``DEMO_METHODS`` plus eq. 4.4 (``<method>+actionness``, α chosen per
   split on the validation videos) → ``OUT/benchmark``;
8.–11. 3D: render a tiny scene, reconstruct each video, align into a graph, transfer keypoints
   and measure PCK → ``OUT/scene`` (skipped, with the reason in the report, when the optional
   ``scene`` packages or headless OpenGL are missing);
12. 3D grounding: a small narrated ``synth grounding`` world, the grounding model (TF-IDF), its
    PCK against chance and a few grounded queries → ``OUT/grounding``;
13. video front end: a few short generated videos → per-second features → ``OUT/video``;
14. the ``instructvid report`` page of each output folder above (``OUT/benchmark``,
    ``OUT/actionness/eval``, ``OUT/scene``, ``OUT/scene/transfer``, ``OUT/grounding/eval``:
    ``report.html``
    there);

then ``OUT/report.md`` and ``OUT/report.html`` (images embedded; links to those pages). File writes skip ``fsync``
(everything under ``OUT`` can be regenerated).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from instructvid.demo import actionness as ax
from instructvid.demo import scene as sc
from instructvid.demo.config import (
    DEMO_ACTIONNESS_BASELINES,
    DEMO_ACTIONNESS_TRAIN,
    DEMO_ALIGN_METHOD,
    DEMO_DIM,
    DEMO_GROUNDING,
    DEMO_GROUNDING_QUERIES,
    DEMO_GROUNDING_TRAIN,
    DEMO_GROUNDING_VOXELS,
    DEMO_METHODS,
    DEMO_N_TRAIN,
    DEMO_PCK_TOLERANCES_CM,
    DEMO_RECONSTRUCT,
    DEMO_SCENE,
    DEMO_SIZE,
    DEMO_SPLITS,
    DEMO_VERSION,
)
from instructvid.demo.report import DemoTable, console_tables, write_report
from instructvid.demo.stages import Stages, StageTiming, cpu_seconds
from instructvid.io.atomic import skip_fsync
from instructvid.io.ids import safe_join
from instructvid.types import ProgressCallback

N_STAGES = 14


@dataclass(frozen=True)
class DemoResult:
    """What a demo run produced.

    Attributes:
        report: ``OUT/report.html``; ``markdown`` is ``OUT/report.md``.
        tables: the console tables (step localization, actionness, 3D, timings).
        timings: per stage, in order (``reused`` ones carry the seconds of the run that
            computed them).
        wall_s: wall-clock seconds of this run; ``cpu_s`` its CPU seconds (this process, its
            threads and finished child processes).
    """

    report: Path
    markdown: Path
    tables: list[DemoTable]
    timings: list[StageTiming] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0


def _tag(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def run_demo(out: str | Path, *, seed: int = 0, console: Console | None = None) -> DemoResult:
    """Run every pipeline into ``out`` and write ``out/report.html`` and ``out/report.md``.

    Resumable: a stage finished by an earlier run into the same ``out`` with the same settings
    is reused (``OUT/stages/<stage>.json``); an interrupted stage resumes where its library
    function left off. A world of another seed in ``out`` is refused (``ValueError``).

    Args:
        out: output folder.
        seed: seed of the CrossTask world, the splits and the actionness model; the 3D scene
            uses ``seed + 1``.
        console: where warnings go (default: stderr); progress bars always go to stderr.

    Raises:
        RuntimeError: the synthetic world fails its own check.
    """
    from instructvid.progress import progress_console

    console = console or Console(stderr=True)
    out = Path(out)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    stages = Stages(
        out, N_STAGES, lambda line: progress_console.print(line, highlight=False, soft_wrap=True)
    )
    with skip_fsync():
        world = _world(stages, out, seed)
        axr = _actionness(stages, out, seed, world)
        bench = _steps(stages, out, seed, axr)
        scene = _scene(stages, out, seed, console)
        grounding = _grounding(stages, out, seed)
        videos = _video(stages, out, seed)
        pages = _pages(stages, out, seed, scene)
        elapsed = (time.perf_counter() - wall0, cpu_seconds() - cpu0)
        report, markdown = write_report(
            out, seed, world, axr, bench, scene, stages.timings, elapsed, grounding, pages
        )
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    tables = console_tables(world, axr, bench, scene, stages.timings, wall, cpu, grounding)
    tables.insert(-1, _video_table(videos))
    return DemoResult(report, markdown, tables, list(stages.timings), wall, cpu)


# --------------------------------------------------------------------------------------------
# Stages


def _world(stages: Stages, out: Path, seed: int) -> dict[str, Any]:
    from instructvid.io.crosstask import CrossTaskData
    from instructvid.synth.crosstask.generate import WORLD_FILE

    data_dir = out / "data"
    settings = {"version": DEMO_VERSION, "size": DEMO_SIZE, "dim": DEMO_DIM, "seed": seed}

    def generate(update: ProgressCallback) -> dict[str, Any]:
        from instructvid.synth.crosstask.generate import generate_crosstask

        generate_crosstask(data_dir, size=DEMO_SIZE, seed=seed, dim=DEMO_DIM, progress=update)
        data = CrossTaskData.open(data_dir)
        return {
            "primary": len(data.primary),
            "related": len(data.related),
            "videos": sum(len(v) for v in data.videos.values()),
        }

    counts = stages.run(
        "world",
        f"synthetic world ({DEMO_SIZE}, {DEMO_DIM}-d)",
        settings,
        generate,
        outputs=[data_dir / WORLD_FILE],
    )

    def check(update: ProgressCallback) -> dict[str, Any]:
        from instructvid.io.crosstask_check import check_dataset

        problems = check_dataset(data_dir, progress=update)
        errors = [str(p) for p in problems if p.severity == "error"]
        if errors:
            raise RuntimeError("the synthetic world failed its own check:\n" + "\n".join(errors))
        return {"errors": 0, "warnings": len(problems)}

    checked = stages.run("check", "checking the dataset", settings, check)

    def statistics(update: ProgressCallback) -> dict[str, Any]:
        from instructvid.report.tables import stats_markdown
        from instructvid.steps.stats import dataset_statistics

        data = CrossTaskData.open(data_dir)
        return {"markdown": stats_markdown(dataset_statistics(data, progress=update))}

    stats = stages.run("stats", "dataset statistics", settings, statistics)
    return {
        "dir": data_dir,
        "settings": settings,
        **counts,
        **checked,
        "stats_md": stats["markdown"],
    }


def _actionness(stages: Stages, out: Path, seed: int, world: Mapping[str, Any]) -> dict[str, Any]:
    data_dir: Path = world["dir"]
    settings = {**world["settings"], "train": DEMO_ACTIONNESS_TRAIN}
    root = out / "actionness"
    run = root / "runs" / _tag(settings)
    scores = root / "scores"
    eval_dir = root / "eval"
    train = stages.run(
        "actionness_train",
        "actionness: training on related-task videos",
        settings,
        lambda update: ax.train_model(data_dir, run, seed=seed, progress=update),
        outputs=[run / "model.pt"],
    )
    stages.run(
        "actionness_score",
        "actionness: scoring primary-task videos",
        settings,
        lambda update: ax.score_primary(data_dir, run, scores, progress=update),
        outputs=[scores],
    )
    evaluation = stages.run(
        "actionness_eval",
        "actionness: frame AP and AR@AN",
        {**settings, "baselines": list(DEMO_ACTIONNESS_BASELINES)},
        lambda update: ax.evaluate_scores(data_dir, scores, eval_dir, seed=seed, progress=update),
        outputs=[eval_dir / f"{ax.LEARNED}.json", eval_dir / "score_vs_time.png"],
    )
    return {
        "settings": settings,
        "scores": scores,
        "eval_dir": eval_dir,
        "train": train,
        **evaluation,
    }


def _steps(stages: Stages, out: Path, seed: int, axr: Mapping[str, Any]) -> dict[str, Any]:
    bench_dir = out / "benchmark"
    data_dir = out / "data"
    settings = {
        **axr["settings"],
        "splits": DEMO_SPLITS,
        "n_train": DEMO_N_TRAIN,
        "methods": list(DEMO_METHODS),
    }

    def benchmark(update: ProgressCallback) -> dict[str, Any]:
        from instructvid.io.crosstask import CrossTaskData
        from instructvid.progress import across_methods
        from instructvid.report.benchmark import write_benchmark_report
        from instructvid.steps.benchmark.actionness import ActionnessSettings, FolderActionness
        from instructvid.steps.benchmark.protocol import run_benchmark
        from instructvid.steps.benchmark.registry import default_registry

        data = CrossTaskData.open(data_dir)
        summaries = run_benchmark(
            data,
            bench_dir,
            methods=DEMO_METHODS,
            n_splits=DEMO_SPLITS,
            n_train=DEMO_N_TRAIN,
            seed=seed,
            progress=across_methods(update, DEMO_METHODS),
            actionness=ActionnessSettings(FolderActionness(axr["scores"])),
            registry=default_registry(),
        )
        titles = {t: task.title for t, task in data.tasks.items()}
        report = write_benchmark_report(
            bench_dir, summaries, titles, sharing=False, actionness_section=True
        )
        results_md, with_actionness = report.markdown, report.actionness or ""
        return {
            "summaries": {
                m: {k: s[k] for k in ("mean", "std", "map", "alpha", "base_method") if k in s}
                for m, s in summaries.items()
            },
            "results_md": results_md,
            "actionness_md": with_actionness,
        }

    return stages.run(
        "steps",
        "step localization (split protocol + actionness)",
        settings,
        benchmark,
        outputs=[bench_dir / f"{m}.json" for m in DEMO_METHODS]
        + [bench_dir / "recall.png", bench_dir / "methods.png"],
    )


def _scene(stages: Stages, out: Path, seed: int, console: Console) -> dict[str, Any]:
    """The 3D stages, or ``{"skipped": reason}`` (the remaining stages are announced as skipped)."""
    labels = [
        "3D: render",
        "3D: reconstruct each video",
        "3D: alignment graph",
        "3D: keypoint transfer and PCK",
    ]
    reason = sc.unavailable()
    if reason is not None:
        for label in labels:
            stages.skip(label, reason)
        return {"skipped": reason}
    root = out / "scene"
    render_dir, rec_dir, graph, transfer_dir = (
        root / "render",
        root / "rec",
        root / "graph.json",
        root / "transfer",
    )
    settings: dict[str, Any] = {
        "version": DEMO_VERSION,
        "seed": seed + 1,
        "scene": DEMO_SCENE,
        "reconstruct": DEMO_RECONSTRUCT,
    }
    done = 0
    try:
        rendered = stages.run(
            "scene_render",
            labels[0],
            settings,
            lambda update: sc.render(render_dir, seed=seed + 1, progress=update),
            outputs=[render_dir / "scene.json"],
        )
        done += 1
        models = stages.run(
            "scene_reconstruct",
            labels[1],
            settings,
            lambda update: sc.reconstruct_videos(render_dir, rec_dir, progress=update),
            outputs=[rec_dir / "reconstruct.json"],
        )
        done += 1
        settings = {**settings, "align": DEMO_ALIGN_METHOD}
        aligned = stages.run(
            "scene_align",
            labels[2],
            settings,
            lambda update: sc.align_models(rec_dir, graph, progress=update),
            outputs=[graph],
        )
        done += 1
        settings = {**settings, "tolerances_cm": list(DEMO_PCK_TOLERANCES_CM)}
        pck = stages.run(
            "scene_transfer",
            labels[3],
            settings,
            lambda update: sc.transfer_keypoints(
                render_dir, rec_dir, graph, transfer_dir, progress=update
            ),
            outputs=[transfer_dir / "pck.json"],
        )
    except Exception as exc:  # the report says what failed; the other capabilities stand
        reason = f"{labels[done]} failed: {type(exc).__name__}: {exc}"
        console.print(f"[yellow]warning:[/yellow] {reason}", highlight=False, soft_wrap=True)
        for label in labels[done + 1 :]:
            stages.skip(label, "an earlier 3D stage failed")
        return {"skipped": reason}
    overlay = pck.get("overlay")  # a file name in transfer_dir/overlays, relative to out:
    if overlay:
        overlay = safe_join(transfer_dir / "overlays", overlay).relative_to(out).as_posix()
    return {"render": rendered, **models, "graph": aligned, "pck": pck, "overlay": overlay}


def _grounding(stages: Stages, out: Path, seed: int) -> dict[str, Any]:
    """Grounding narration into voxels (world seed ``seed + 1``), as ``ground_demo`` returns."""
    from instructvid.demo.grounding import EVAL, ground_demo

    root = out / "grounding"
    settings = {
        "version": DEMO_VERSION,
        "seed": seed + 1,
        "world": DEMO_GROUNDING,
        "train": DEMO_GROUNDING_TRAIN,
        "n_voxels": DEMO_GROUNDING_VOXELS,
        "queries": DEMO_GROUNDING_QUERIES,
    }
    return stages.run(
        "grounding",
        "3D grounding: narration → voxels, PCK and queries",
        settings,
        lambda update: ground_demo(root, seed=seed + 1, progress=update),
        outputs=[root / EVAL / "pck.json", root / EVAL / "pck.png"],
    )


#: The output folders that get their own ``instructvid report`` page (relative to ``OUT``), with
#: the link text of the demo's report; the 3D ones (``scene``…) only when the 3D stages ran.
RUN_PAGES = (
    ("benchmark", "steps benchmark: recall per method and task"),
    ("actionness/eval", "actionness evaluate: frame AP and AR@AN curves"),
    ("scene", "scene: the aligned point cloud of the alignment graph"),
    ("scene/transfer", "scene: keypoint transfer, PCK and overlays"),
    ("grounding/eval", "scene evaluate: grounding PCK"),
)


def _pages(stages: Stages, out: Path, seed: int, scene: Mapping[str, Any]) -> list[list[str]]:
    """Write ``instructvid report``'s page into each folder of :data:`RUN_PAGES`; returns
    ``[[page path relative to OUT, link text], ...]``."""
    folders = [(f, t) for f, t in RUN_PAGES if not f.startswith("scene") or "skipped" not in scene]
    settings = {
        "version": DEMO_VERSION,
        "seed": seed,
        "folders": [f for f, _ in folders],
        # the pages show these stages' outputs: redone when any of them was
        "stages": {
            key: (out / "stages" / f"{key}.json").stat().st_mtime_ns
            for key in ("steps", "actionness_eval", "scene_transfer", "grounding")
            if (out / "stages" / f"{key}.json").is_file()
        },
    }

    def write(update: ProgressCallback) -> list[list[str]]:
        from instructvid.report.runs import write_run_report

        done = []
        for i, (folder, text) in enumerate(folders):
            page = write_run_report(out / folder)
            done.append([page.relative_to(out).as_posix(), text])
            update(i + 1, len(folders))
        return done

    return stages.run(
        "run_pages",
        "report pages of the output folders",
        settings,
        write,
        outputs=[out / f / "report.html" for f, _ in folders],
    )


def _video(stages: Stages, out: Path, seed: int) -> dict[str, Any]:
    from instructvid.demo.video import DEMO_EXTRACTOR, DEMO_VIDEOS, extract_videos

    root = out / "video"
    settings = {
        "version": DEMO_VERSION,
        "seed": seed,
        "videos": DEMO_VIDEOS,
        "extractor": DEMO_EXTRACTOR,
    }
    return stages.run(
        "video_features",
        "video files → per-second features",
        settings,
        lambda update: extract_videos(root, seed=seed, progress=update),
        outputs=[root / "features" / "manifest.json"],
    )


def _video_table(videos: Mapping[str, Any]) -> DemoTable:
    rows = [
        (stem, f"{videos['durations'][stem]:.1f}", str(n)) for stem, n in videos["rows"].items()
    ]
    note = (
        f"{videos['extractor']} features ({videos['dim']}-d), one row per second, in video/features"
    )
    return DemoTable("video front end", ("video", "duration (s)", "rows"), rows, note=note)
