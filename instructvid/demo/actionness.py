"""Capability 2 in the demo: actionness learned by order verification on the CrossTask world.

* **train** (:func:`train_model`): the order-verification model on the **related-task videos
  only**; every video of a primary task (training, test or validation in any split) is passed
  as an evaluation video, so :func:`~instructvid.actionness.train.train_actionness` refuses to
  train on it.
* **score** (:func:`score_primary`): per-second actionness ``S`` (1 s clips, as
  ``instructvid actionness score``) of every primary-task video, written as
  ``<video_id>.npy`` float64 (T,) — the layout the step benchmark reads (eq. 4.4).
* **evaluate** (:func:`evaluate_scores`): frame AP (0.2 s segments) and AR@AN of TAG proposals
  on the test part of the seeded random split of the annotated primary videos, as
  ``instructvid actionness evaluate --crosstask`` does, against the ``chance`` and ``trim0.3``
  baselines.

:func:`actionness_stages` runs the three as cached, timed stages (stages 4–6).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from instructvid.demo.config import DEMO_ACTIONNESS_BASELINES, DEMO_ACTIONNESS_TRAIN
from instructvid.demo.stages import Stages
from instructvid.io.crosstask import CrossTaskData
from instructvid.types import ProgressCallback

#: Name of the learned model's rows and files in the evaluation.
LEARNED = "learned"


def primary_videos(data: CrossTaskData) -> list[str]:
    """Every video of a primary task (``videos.csv`` and ``videos_val.csv``), sorted."""
    ids: set[str] = set()
    for task_id in data.primary:
        ids.update(data.videos.get(task_id, ()))
        ids.update(data.val_videos.get(task_id, ()))
    return sorted(ids)


def related_only_videos(data: CrossTaskData) -> list[str]:
    """Videos of the related tasks that no primary task lists, with a feature file, sorted."""
    primary = set(primary_videos(data))
    ids: set[str] = set()
    for task_id in data.related:
        ids.update(data.videos.get(task_id, ()))
        ids.update(data.val_videos.get(task_id, ()))
    return sorted(v for v in ids - primary if data.paths.feature(v).is_file())


def train_model(
    data_dir: Path, run: Path, *, seed: int, progress: ProgressCallback
) -> dict[str, Any]:
    """Train (or resume) the actionness model on the related-task videos into ``run``.

    Returns:
        ``{"run", "n_videos", "n_eligible", "epochs", "loss", "accuracy", "config"}``: the last
        epoch's training loss and order accuracy (fraction), the :class:`TrainConfig` as a dict.
    """
    from instructvid.actionness.config import TrainConfig
    from instructvid.actionness.train import train_actionness

    data = CrossTaskData.open(data_dir)
    train_ids = related_only_videos(data)
    if not train_ids:
        raise ValueError(f"{data_dir}: no related-task video to train actionness on")
    config = TrainConfig(**DEMO_ACTIONNESS_TRAIN, seed=seed)
    result = train_actionness(
        {v: data.paths.feature(v) for v in train_ids},
        run,
        config=config,
        eval_videos=primary_videos(data),
        eval_source="the primary tasks' videos",
        device="cpu",
        progress=progress,
    )
    last = result.history[-1]
    return {
        "run": str(run),
        "n_videos": result.n_videos,
        "n_eligible": result.n_eligible,
        "epochs": len(result.history),
        "loss": float(last["loss"]),
        "accuracy": float(last["accuracy"]),
        "config": asdict(config),
    }


def score_primary(
    data_dir: Path, run: Path, scores: Path, *, progress: ProgressCallback
) -> dict[str, Any]:
    """Write the per-second actionness of every primary-task video to ``scores/<vid>.npy``.

    Every file is (re)written: the stage runs only when the model may have changed.

    Returns:
        ``{"scores": folder, "n_videos": count}``.
    """
    from instructvid.actionness.model_io import load_model
    from instructvid.actionness.proposals import score_video
    from instructvid.io.scores import ActionnessDir
    from instructvid.runtime import limit_torch_threads

    data = CrossTaskData.open(data_dir)
    net, _ = load_model(run, device="cpu")
    folder = ActionnessDir(scores, create=True)
    ids = primary_videos(data)
    with limit_torch_threads(1):  # one small product per video: a thread pool only costs time
        for k, vid in enumerate(ids):
            folder.write(vid, score_video(net, data.features(vid), clip_seconds=1))
            progress(k + 1, len(ids))
    return {"scores": str(scores), "n_videos": len(ids)}


def evaluate_scores(
    data_dir: Path, scores: Path, out: Path, *, seed: int, progress: ProgressCallback
) -> dict[str, Any]:
    """Frame AP and AR@AN of the learned scores and the baselines on the primary test videos.

    Writes ``out/<method>.json``, ``out/<method>.proposals.json``, ``out/results.md``,
    ``out/ar_an.png`` and ``out/score_vs_time.png`` (see ``docs/actionness.md``).

    Returns:
        ``{"source", "n_videos", "methods": {name: {"frame_ap", "per_video", "auc", "ar10",
        "ar100"}}}``, all fractions in [0, 1]; ``learned`` last.
    """
    from instructvid.actionness.eval.evaluate import evaluate_methods
    from instructvid.actionness.eval.methods import baseline_sources, scores_dir_source
    from instructvid.actionness.eval.sets import crosstask_eval_set

    eval_set = crosstask_eval_set(data_dir, seed=seed)
    sources = [
        *baseline_sources(DEMO_ACTIONNESS_BASELINES, seed=seed),
        scores_dir_source(scores, name=LEARNED),
    ]
    results = evaluate_methods(eval_set, out, sources=sources, proposals=True, progress=progress)
    methods = {}
    for name, r in results.items():
        assert r.frame is not None and r.aran is not None  # score methods have both
        methods[name] = {
            "frame_ap": r.frame.pooled,
            "per_video": r.frame.per_video_mean,
            "auc": r.aran.auc,
            "ar10": r.aran.ar_at(10),
            "ar100": r.aran.ar_at(100),
        }
    return {"source": eval_set.source, "n_videos": len(eval_set.videos), "methods": methods}


def _tag(settings: Mapping[str, Any]) -> str:
    """12 hex digits naming a run folder by the settings that trained it."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def actionness_stages(
    stages: Stages, out: Path, seed: int, world: Mapping[str, Any]
) -> dict[str, Any]:
    """Stages ``actionness_train``, ``actionness_score`` and ``actionness_eval`` on the world of
    :func:`~instructvid.demo.world.world_stages`, into ``out/actionness`` (``runs/<hash of the
    settings>``, ``scores``, ``eval``).

    Returns:
        ``{"settings", "scores", "eval_dir", "train", "source", "n_videos", "methods"}``: the
        world's settings with the training's, the score folder, the evaluation folder, what
        :func:`train_model` returned, and what :func:`evaluate_scores` returned.
    """
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
        lambda update: train_model(data_dir, run, seed=seed, progress=update),
        outputs=[run / "model.pt"],
    )
    stages.run(
        "actionness_score",
        "actionness: scoring primary-task videos",
        settings,
        lambda update: score_primary(data_dir, run, scores, progress=update),
        outputs=[scores],
    )
    evaluation = stages.run(
        "actionness_eval",
        "actionness: frame AP and AR@AN",
        {**settings, "baselines": list(DEMO_ACTIONNESS_BASELINES)},
        lambda update: evaluate_scores(data_dir, scores, eval_dir, seed=seed, progress=update),
        outputs=[eval_dir / f"{LEARNED}.json", eval_dir / "score_vs_time.png"],
    )
    return {
        "settings": settings,
        "scores": scores,
        "eval_dir": eval_dir,
        "train": train,
        **evaluation,
    }
