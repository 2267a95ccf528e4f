"""Demo stage 14: the ``instructvid report`` page of each output folder of the demo.

:func:`pages_stage` writes ``report.html`` into each folder of :data:`RUN_PAGES` (the 3D ones
only when the 3D stages ran) as one cached, timed stage, redone when a stage it shows was.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from instructvid.demo.config import DEMO_VERSION
from instructvid.demo.stages import Stages
from instructvid.types import ProgressCallback

__all__ = ["RUN_PAGES", "pages_stage"]

#: The output folders that get their own ``instructvid report`` page (relative to ``OUT``), with
#: the link text of the demo's report; the 3D ones (``scene``…) only when the 3D stages ran.
RUN_PAGES = (
    ("benchmark", "steps benchmark: recall per method and task"),
    ("actionness/eval", "actionness evaluate: frame AP and AR@AN curves"),
    ("scene", "scene: the aligned point cloud of the alignment graph"),
    ("scene/transfer", "scene: keypoint transfer, PCK and overlays"),
    ("grounding/eval", "scene evaluate: grounding PCK"),
)


def pages_stage(stages: Stages, out: Path, seed: int, scene: Mapping[str, Any]) -> list[list[str]]:
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
