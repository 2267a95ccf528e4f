"""``steps run``: a folder of narrated videos in, the time of every step out.

:func:`run_pipeline` runs the stages of :mod:`instructvid.steps.pipeline.stages` in order —
features (the video front end) → narration constraints from the subtitles → the component model
trained on these videos (all tasks share components; or a trained model applied, also to tasks
it never saw) → optional actionness → step times — each writing its files under RUN::

    RUN/config.json                  the settings and the inputs' fingerprint
    RUN/stages.json                  finished stages: seconds, problems (a finished stage is skipped)
    RUN/features/                    <video_id>.npy (T, D) per second, manifest.json, problems.json
    RUN/dataset/                     tasks_primary.txt, videos.csv of the videos that run
    RUN/constraints/                 narration intervals <task>_<video>.csv, matches/
    RUN/model/                       model.npz, vocabulary.json, checkpoint.npz, history.json
    RUN/actionness/<video_id>.npy    (T,) per-second actionness (with --actionness)
    RUN/scores/<task>/<video_id>.npy (T, K) per-second step log-probabilities
    RUN/steps/<task>_<video_id>.csv  step,start,end (seconds), one row per step
    RUN/steps.json                   {video: {"task", "steps": [{"step","name","start","end","score"}]}}
    RUN/problems.json                [{"video", "stage", "reason", "skipped"}]

A video that cannot run (no file, undecodable, empty, fewer seconds than its task has steps) is
skipped and listed; a video without subtitles runs under the order and at-least-once
constraints only and is listed with ``"skipped": false``. Interrupting and running the same
command again resumes: finished stages are skipped, unfinished ones resume their own work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.steps.pipeline.inputs import Inputs, Problem, read_inputs
from instructvid.steps.pipeline.settings import RUNTIME_KEYS, RunSettings
from instructvid.steps.pipeline.stages import (
    STAGES,
    Context,
    RunPaths,
    StageProgress,
    load_ok,
    read_json,
)
from instructvid.types import PathLike

__all__ = ["NothingRanError", "PipelineResult", "RunPaths", "RunSettings", "run_pipeline"]

KIND = "instructvid steps run"


class NothingRanError(ValueError):
    """No video of the run could be processed (each one's reason is in ``problems.json``)."""


@dataclass(frozen=True)
class PipelineResult:
    """What :func:`run_pipeline` did.

    Attributes:
        root: RUN.
        n_videos: videos that got step times.
        problems: every problem (skipped videos and warnings), in stage order.
        stages: ``{stage: {"seconds", "skipped_now"}}`` (``skipped_now``: finished before).
    """

    root: Path
    n_videos: int
    problems: list[Problem]
    stages: dict[str, dict[str, Any]]

    @property
    def n_skipped(self) -> int:
        return len({p.video for p in self.problems if p.skipped})


def run_pipeline(
    videos: PathLike,
    tasks: PathLike,
    video_list: PathLike,
    out: PathLike,
    settings: RunSettings | None = None,
    *,
    subtitles: PathLike | None = None,
    actionness: Callable[[np.ndarray], np.ndarray] | PathLike | None = None,
    progress: StageProgress | None = None,
    notify: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Run (or resume) ``steps run`` into RUN = ``out`` (module docstring).

    Args:
        videos: folder of ``<video_id>.<ext>`` video files.
        tasks: ``tasks.txt`` (CrossTask task cards).
        video_list: ``videos.csv`` (``task_id,video_id,url``).
        out: the RUN folder.
        settings: what to compute (defaults: :class:`RunSettings`).
        subtitles: folder of ``<video_id>.vtt`` / ``.srt`` files (None: no narration).
        actionness: per-second actionness for eq. 4.4: a function of a video's (T, d) features
            returning (T,), or a folder of ``<video_id>.npy`` (T,) arrays.
        progress: ``progress(stage)`` → context manager yielding a ``(done, total)`` callback.
        notify: called with one line per stage (finished now, or skipped as finished before).

    Raises:
        NothingRanError: no video could run.
        ValueError: bad inputs (named), or RUN holds a run with other settings.
    """
    settings = settings or RunSettings()
    paths = RunPaths(Path(out))
    inputs = read_inputs(videos, tasks, video_list)
    if actionness is not None and not callable(actionness):
        actionness = Path(actionness)
    _check_config(paths, settings, inputs, subtitles)
    ctx = Context(
        paths=paths,
        settings=settings,
        inputs=inputs,
        subtitles=Path(subtitles) if subtitles is not None else None,
        actionness=actionness,
    )
    if progress is not None:
        ctx.progress = progress
    say = notify or (lambda _line: None)
    record: dict[str, Any] = read_json(paths.stages, {})
    problems = list(inputs.problems)
    timings: dict[str, dict[str, Any]] = {}
    for name, stage in STAGES:
        if name in record:
            problems += [Problem(**p) for p in record[name]["problems"]]
            timings[name] = {"seconds": record[name]["seconds"], "skipped_now": True}
            if name == "features":
                load_ok(ctx)
            say(f"{name}: finished before ({record[name]['seconds']:.1f} s), skipped")
        else:
            start = time.perf_counter()
            found = stage(ctx)
            seconds = time.perf_counter() - start
            problems += found
            if name == "features" and not ctx.ok:  # not recorded: running again retries
                atomic_write_json(paths.problems, [p.to_json() for p in problems])
                raise NothingRanError(
                    f"no video could run (every one was skipped; reasons in {paths.problems})"
                )
            record[name] = {"seconds": round(seconds, 3), "problems": [p.to_json() for p in found]}
            atomic_write_json(paths.stages, record)
            timings[name] = {"seconds": seconds, "skipped_now": False}
            say(f"{name}: {seconds:.1f} s")
        atomic_write_json(paths.problems, [p.to_json() for p in problems])
    return PipelineResult(paths.root, len(ctx.ok), problems, timings)


def _check_config(
    paths: RunPaths, settings: RunSettings, inputs: Inputs, subtitles: PathLike | None
) -> None:
    config = {
        "kind": KIND,
        "inputs": inputs.fingerprint,
        "subtitles": str(Path(subtitles).resolve()) if subtitles is not None else None,
        "settings": settings.to_json(),
    }
    if paths.config.is_file():
        old = read_json(paths.config, {})

        def what(c: dict[str, Any]) -> dict[str, Any]:
            s = {k: v for k, v in c.get("settings", {}).items() if k not in RUNTIME_KEYS}
            return {**{k: v for k, v in c.items() if k != "settings"}, "settings": s}

        if what(old) != what(config):
            a, b = what(old), what(config)
            diffs = [
                f"{k}: {a.get(k)!r} → {b.get(k)!r}"
                for k in a
                if k != "settings" and a.get(k) != b.get(k)
            ]
            diffs += [
                f"{k}: {a['settings'].get(k)!r} → {b['settings'].get(k)!r}"
                for k in sorted(set(a["settings"]) | set(b["settings"]))
                if a["settings"].get(k) != b["settings"].get(k)
            ]
            raise ValueError(
                f"{paths.root} holds a `steps run` with other inputs or settings "
                f"({'; '.join(diffs)}); use another --out folder"
            )
    paths.root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(paths.config, config)
