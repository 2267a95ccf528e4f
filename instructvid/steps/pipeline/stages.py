"""The stages of ``steps run``, each a function of the run's :class:`Context` that writes its files
under RUN and returns the problems it found.

features → constraints → model → actionness → steps. Each stage resumes its own unfinished work
(the extractor skips finished videos, the narration matching finished videos, training restarts
from its last epoch checkpoint, actionness and step files are written per video);
:func:`~instructvid.steps.pipeline.run_pipeline` skips a stage that finished.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import (
    CrossTaskData,
    CrossTaskPaths,
    Segment,
    VideoEntry,
    write_segments,
    write_task_cards,
    write_video_list,
)
from instructvid.io.ids import safe_join
from instructvid.io.scores import ActionnessDir, StepScoresDir
from instructvid.steps.pipeline.inputs import Inputs, Problem
from instructvid.steps.pipeline.settings import RunSettings
from instructvid.types import ProgressCallback

__all__ = ["STAGES", "Context", "RunPaths"]

#: ``stage(description)`` → a context manager yielding a ``progress(done, total)`` callback.
StageProgress = Callable[[str], AbstractContextManager[ProgressCallback | None]]


@dataclass(frozen=True)
class RunPaths:
    """Where ``steps run`` writes, under ``root`` = RUN."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def stages(self) -> Path:
        return self.root / "stages.json"

    @property
    def features(self) -> Path:
        return self.root / "features"

    @property
    def dataset(self) -> CrossTaskPaths:
        """The CrossTask layout the trainer reads: release lists, features, constraints."""
        return CrossTaskPaths.from_root(
            None,
            release=self.root / "dataset",
            features=self.features,
            constraints=self.root / "constraints",
        )

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def actionness(self) -> Path:
        return self.root / "actionness"

    @property
    def scores(self) -> Path:
        return self.root / "scores"

    @property
    def steps(self) -> Path:
        return self.root / "steps"

    @property
    def steps_json(self) -> Path:
        return self.root / "steps.json"

    @property
    def problems(self) -> Path:
        return self.root / "problems.json"


@dataclass
class Context:
    """What every stage sees.

    Attributes:
        paths: the RUN layout.
        settings: the run's settings.
        inputs: the checked inputs.
        subtitles: folder of subtitle files (or None: no narration constraints).
        actionness: per-second actionness for eq. 4.4: a function (T, d) features → (T,), or a
            folder of ``<video_id>.npy`` arrays; None without ``--actionness``.
        progress: per-stage progress bars.
        ok: ``[(task_id, video_id)]`` that passed the features stage (set by it or from disk).
    """

    paths: RunPaths
    settings: RunSettings
    inputs: Inputs
    subtitles: Path | None = None
    actionness: Callable[[np.ndarray], np.ndarray] | Path | None = None
    progress: StageProgress = field(default=lambda _label: nullcontext(None))
    ok: list[tuple[str, str]] = field(default_factory=list)

    def data(self) -> CrossTaskData:
        paths = self.paths.dataset
        return CrossTaskData.open(
            None, release=paths.release, features=paths.features, constraints=paths.constraints
        )

    def videos_by_task(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for task_id, vid in self.ok:
            out.setdefault(task_id, []).append(vid)
        return out


def features_stage(ctx: Context) -> list[Problem]:
    """Per-second features of every video (the video front end), then the dataset lists of the
    videos that can run: decodable and at least one second per step of their task."""
    from instructvid.video.extract import extract_features

    s = ctx.settings
    files = [ctx.inputs.files[v] for _, v in ctx.inputs.videos]
    with ctx.progress("features") as update:
        result = extract_features(
            files,
            ctx.paths.features,
            extractor=s.extractor,
            weights=s.weights,
            fps=1.0,
            batch=s.batch,
            workers=s.workers,
            executor=s.executor,
            ray_address=s.ray_address,
            device=s.device,
            progress=update,
        )
    problems = [Problem(p["video"], "features", p["reason"]) for p in result.problems]
    failed = {p.video for p in problems}
    ok: list[tuple[str, str]] = []
    for task_id, vid in ctx.inputs.videos:
        info = result.videos.get(vid)
        if vid in failed:
            continue
        if info is None or not safe_join(ctx.paths.features, f"{vid}.npy").is_file():
            problems.append(Problem(vid, "features", "no features were written"))
            continue
        rows, k = int(info["rows"]), ctx.inputs.tasks[task_id].n_steps
        if rows < k:
            problems.append(
                Problem(
                    vid,
                    "features",
                    f"too short: {rows} s of video but task {task_id} has {k} steps "
                    "(at least one second per step is needed)",
                )
            )
            continue
        if info.get("truncated"):
            problems.append(
                Problem(vid, "features", f"truncated file: the first {rows} s are used", False)
            )
        ok.append((task_id, vid))
    _write_dataset(ctx, ok)
    ctx.ok = ok
    return problems


def _write_dataset(ctx: Context, ok: list[tuple[str, str]]) -> None:
    paths = ctx.paths.dataset
    used = [t for t in ctx.inputs.tasks if any(task == t for task, _ in ok)]
    write_task_cards(paths.tasks_primary, [ctx.inputs.tasks[t] for t in used])
    write_video_list(paths.videos, [VideoEntry(t, v) for t, v in ok])


def ok_videos(paths: RunPaths) -> list[tuple[str, str]]:
    """``[(task_id, video_id)]`` that passed the features stage (from the dataset lists)."""
    from instructvid.io.crosstask import read_video_list

    return [(e.task_id, e.video_id) for e in read_video_list(paths.dataset.videos)]


def load_ok(ctx: Context) -> None:
    """``ctx.ok`` from the dataset lists written by a finished features stage."""
    ctx.ok = ok_videos(ctx.paths)


def constraints_stage(ctx: Context) -> list[Problem]:
    """Narration constraints from the subtitles (every step keeps its interval: there are no
    annotated validation videos to choose a threshold on). Videos without usable subtitles are
    trained under the order and at-least-once constraints only (a warning each)."""
    if ctx.subtitles is None:
        warnings.warn(
            "no --subtitles: every video is trained under order and at-least-once only",
            stacklevel=2,
        )
        return []
    from instructvid.steps.narration.constraints import build_constraints, load_matches

    data = ctx.data()
    with ctx.progress("constraints") as update:
        build_constraints(
            data,
            ctx.subtitles,
            ctx.paths.dataset.constraints,
            text=ctx.settings.text,
            threshold=-math.inf,
            random_state=ctx.settings.seed,
            progress=update,
        )
    problems = []
    for task_id, vid in ctx.ok:
        matches = load_matches(ctx.paths.dataset.constraints, task_id, vid)
        if matches.status != "ok":
            why = f"{matches.status} subtitles" + (f" ({matches.note})" if matches.note else "")
            problems.append(
                Problem(
                    vid,
                    "constraints",
                    f"{why}: trained under order and at-least-once only",
                    skipped=False,
                )
            )
    return problems


def model_stage(ctx: Context) -> list[Problem]:
    """The component model: trained on these videos (all tasks share components), or the one of
    ``--model`` (checked against the feature dimension)."""
    from instructvid.steps.model import StepModel

    data = ctx.data()
    dim = int(data.features(ctx.ok[0][1]).shape[1])
    if ctx.settings.model is not None:
        model = StepModel.load(model_folder(ctx.settings.model))
        if model.dim != dim:
            raise ValueError(
                f"{ctx.settings.model}: the model was trained on {model.dim}-d features but "
                f"extractor {ctx.settings.extractor!r} gives {dim}-d; run with the extractor "
                "the model was trained with"
            )
        return []
    from instructvid.steps.benchmark.registry import default_registry
    from instructvid.steps.benchmark.types import MethodOptions

    s = ctx.settings
    options = MethodOptions(
        related=False,
        constraints="penalty",
        seed=s.seed,
        hyper=dict(s.hyper),
        device=s.device,
    )
    train = ctx.videos_by_task()
    with ctx.progress("training") as update:
        fit = default_registry()["component"].fit
        assert fit is not None
        learner = fit(
            data, train, options, checkpoint=ctx.paths.model / "checkpoint.npz", progress=update
        )
    atomic_write_json(ctx.paths.model / "history.json", learner.history_)
    learner.model_.save(ctx.paths.model)
    return []


def model_folder(path: Path) -> Path:
    """The folder holding ``model.npz``: ``path`` itself or its ``model/`` (a RUN folder of
    ``steps run`` or ``steps train``)."""
    path = Path(path)
    if (path / "model" / "model.npz").is_file():
        return path / "model"
    if (path / "model.npz").is_file():
        return path
    raise FileNotFoundError(
        f"{path}: not a trained step model (expected model.npz and vocabulary.json in it or in "
        "its model/ folder; a RUN of `steps run` or `steps train`)"
    )


def actionness_stage(ctx: Context) -> list[Problem]:
    """Per-second actionness of every video (eq. 4.4), ``RUN/actionness/<video_id>.npy``."""
    if ctx.actionness is None:
        return []
    data = ctx.data()
    out = ActionnessDir(ctx.paths.actionness, create=True)
    source = ActionnessDir(ctx.actionness) if isinstance(ctx.actionness, Path) else None
    with ctx.progress("actionness") as update:
        for done, (_, vid) in enumerate(ctx.ok, start=1):
            if not out.has(vid):
                n_rows = data.n_frames(vid)
                if source is not None:
                    values = source.read(vid, n_seconds=n_rows)
                else:
                    values = ctx.actionness(np.asarray(data.features(vid), np.float32))
                out.write(vid, values)
            if update is not None:
                update(done, len(ctx.ok))
    return []


def steps_stage(ctx: Context) -> list[Problem]:
    """Step times: the exactly-one ordered assignment of each task's steps on the model's
    per-second log-probabilities (with actionness: eq. 4.4 with ``alpha``); writes
    ``RUN/scores/<task>/<video>.npy`` (T, K), ``RUN/steps/<task>_<video>.csv`` and
    ``RUN/steps.json``."""
    from instructvid.align.combine import localize_with_actionness
    from instructvid.steps.model import StepModel
    from instructvid.steps.training.predict import predict_videos

    data = ctx.data()
    model_dir = (
        model_folder(ctx.settings.model) if ctx.settings.model is not None else ctx.paths.model
    )
    model = StepModel.load(model_dir)
    with ctx.progress("steps") as update:
        labels, scores = predict_videos(model, data, ctx.videos_by_task(), progress=update)
    actionness = ActionnessDir(ctx.paths.actionness) if ctx.actionness is not None else None
    out_scores = StepScoresDir(ctx.paths.scores, create=True)
    result: dict[str, Any] = {}
    for task_id, vid in ctx.ok:
        task = data.task(task_id)
        f = scores[task_id][vid]
        y = labels[task_id][vid]
        if actionness is not None:
            y = localize_with_actionness(
                f, actionness.read(vid, n_seconds=f.shape[0]), ctx.settings.alpha
            )
        out_scores.write(task_id, vid, f)
        seconds = y.argmax(axis=0)
        probability = np.exp(f[seconds, np.arange(task.n_steps)])
        write_segments(
            safe_join(ctx.paths.steps, f"{task_id}_{vid}.csv"),
            [Segment(k + 1, float(t), float(t + 1)) for k, t in enumerate(seconds)],
        )
        result[vid] = {
            "task": task_id,
            "steps": [
                {
                    "step": k + 1,
                    "name": task.steps[k],
                    "start": float(t),
                    "end": float(t + 1),
                    "score": round(float(probability[k]), 6),
                }
                for k, t in enumerate(seconds)
            ],
        }
    atomic_write_json(ctx.paths.steps_json, result)
    return []


#: The stages in order: (name, function).
STAGES: tuple[tuple[str, Callable[[Context], list[Problem]]], ...] = (
    ("features", features_stage),
    ("constraints", constraints_stage),
    ("model", model_stage),
    ("actionness", actionness_stage),
    ("steps", steps_stage),
)


def read_json(path: Path, default: Any) -> Any:
    """A JSON file's content, or ``default`` when it does not exist."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default
