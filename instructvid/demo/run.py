"""``run_demo``: every pipeline on embedded synthetic data, resumable, ending in a report.

It only sequences the stages; each module named below holds its stages' work and wiring (each
a progress bar; results cached in ``OUT/stages``, see :mod:`instructvid.demo.stages`):

1. synthetic CrossTask world (``DEMO_SIZE``, ``DEMO_DIM``-d features) → ``OUT/data``;
   2. its check (``steps check``) and 3. Table 3.2 statistics (:mod:`~instructvid.demo.world`);
4. actionness model trained on the related-task videos only → ``OUT/actionness/runs/<hash>``;
   5. per-second actionness of every primary-task video → ``OUT/actionness/scores``;
   6. frame AP / AR@AN against ``chance`` and ``trim0.3`` → ``OUT/actionness/eval``
   (:mod:`~instructvid.demo.actionness`);
7. the split protocol for ``DEMO_METHODS`` plus eq. 4.4 (``<method>+actionness``, α chosen per
   split on the validation videos) → ``OUT/benchmark`` (:mod:`~instructvid.demo.steps`);
8.–11. 3D: render a tiny scene, reconstruct each video, align into a graph, transfer keypoints
   and measure PCK → ``OUT/scene`` (skipped, with the reason in the report, when the optional
   ``scene`` packages or headless OpenGL are missing; :mod:`~instructvid.demo.scene`);
12. 3D grounding: a small narrated ``synth grounding`` world, the grounding model (TF-IDF), its
    PCK against chance and a few grounded queries → ``OUT/grounding``
    (:mod:`~instructvid.demo.grounding`);
13. video front end: a few short generated videos → per-second features → ``OUT/video``
    (:mod:`~instructvid.demo.video`);
14. the ``instructvid report`` page of each output folder above (``OUT/benchmark``,
    ``OUT/actionness/eval``, ``OUT/scene``, ``OUT/scene/transfer``, ``OUT/grounding/eval``:
    ``report.html`` there; :mod:`~instructvid.demo.pages`);

then ``OUT/report.md`` and ``OUT/report.html`` (:mod:`~instructvid.demo.report`: images
embedded; links to those pages). File writes skip ``fsync`` (everything under ``OUT`` can be
regenerated).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from instructvid.demo.actionness import actionness_stages
from instructvid.demo.grounding import grounding_stage
from instructvid.demo.pages import pages_stage
from instructvid.demo.report import DemoTable, console_tables, write_report
from instructvid.demo.scene import scene_stages
from instructvid.demo.stages import Stages, StageTiming, cpu_seconds
from instructvid.demo.steps import steps_stage
from instructvid.demo.video import video_stage, video_table
from instructvid.demo.world import world_stages
from instructvid.io.atomic import skip_fsync

__all__ = ["DemoResult", "DemoTable", "run_demo"]

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
        world = world_stages(stages, out, seed)
        axr = actionness_stages(stages, out, seed, world)
        bench = steps_stage(stages, out, seed, axr)
        scene = scene_stages(stages, out, seed, console)
        grounding = grounding_stage(stages, out, seed)
        videos = video_stage(stages, out, seed)
        pages = pages_stage(stages, out, seed, scene)
        elapsed = (time.perf_counter() - wall0, cpu_seconds() - cpu0)
        report, markdown = write_report(
            out, seed, world, axr, bench, scene, stages.timings, elapsed, grounding, pages
        )
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    tables = console_tables(world, axr, bench, scene, stages.timings, wall, cpu, grounding)
    tables.insert(-1, video_table(videos))
    return DemoResult(report, markdown, tables, list(stages.timings), wall, cpu)
