"""The RUN folder of ``instructvid steps train``: its layout, training into it, evaluating it.

Layout (everything a run writes is under RUN; the dataset folder is only read)::

    RUN/config.json        what is trained: method, data folders, split settings, options
    RUN/split.json         the videos: train (per task, primary and related), test, validation
    RUN/checkpoint.npz     the state after the last finished epoch (atomic, every epoch)
    RUN/history.json       one record per epoch (loss, labels moved, seconds), with the model
    RUN/model/model.npz    the trained classifiers (W (M, d), b (M,))   ┐ written last: their
    RUN/model/vocabulary.json   components and training task cards     ┘ presence = finished
    RUN/evaluation.json    default output of ``steps evaluate``
    RUN/localize/<name>.json    default outputs of ``steps localize``

Running ``steps train`` again with the same settings resumes from the checkpoint (or does
nothing when the run is finished); other settings are refused with a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import CrossTaskData
from instructvid.io.ids import safe_join
from instructvid.metrics.recall import crosstask_recall
from instructvid.metrics.step_map import step_map
from instructvid.steps.benchmark.methods import training_set
from instructvid.steps.benchmark.protocol import make_splits
from instructvid.steps.benchmark.registry import MethodRegistry, default_registry
from instructvid.steps.benchmark.split_check import check_splits
from instructvid.steps.benchmark.types import MethodOptions
from instructvid.steps.model import StepModel
from instructvid.types import ProgressCallback

__all__ = ["RunConfigError", "RunLayout", "evaluate_run", "load_run", "open_run_data", "train_run"]


class RunConfigError(ValueError):
    """The RUN folder holds a run with other settings, or is not a run."""


@dataclass(frozen=True)
class RunLayout:
    """Paths inside a RUN folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def split(self) -> Path:
        return self.root / "split.json"

    @property
    def checkpoint(self) -> Path:
        """``checkpoint.npz``; a RUN started before it was renamed keeps its ``checkpoint.pt``."""
        from instructvid.steps.training.checkpoint import legacy_or

        return legacy_or(self.root / "checkpoint.npz", self.root / "checkpoint.pt")

    @property
    def history(self) -> Path:
        return self.root / "history.json"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def evaluation(self) -> Path:
        return self.root / "evaluation.json"

    def localize(self, name: str) -> Path:
        return safe_join(self.root / "localize", f"{name}.json")

    def is_finished(self) -> bool:
        """Whether the trained model has been written."""
        return (self.model_dir / "model.npz").is_file() and (
            self.model_dir / "vocabulary.json"
        ).is_file()


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_run` did.

    Attributes:
        model: the trained model.
        history: one record per epoch.
        resumed_from: epochs restored from the checkpoint (0 = fresh start).
        already_finished: the run was complete before the call (nothing trained).
    """

    model: StepModel
    history: list[dict[str, Any]]
    resumed_from: int
    already_finished: bool


def _options_json(options: MethodOptions) -> dict[str, Any]:
    out = asdict(options)
    out["hyper"] = {k: float(v) for k, v in sorted(dict(options.hyper).items())}
    out.pop("work_dir", None)
    out.pop("device", None)  # where it runs does not change what is trained
    return out


def train_run(
    data: CrossTaskData,
    out: str | Path,
    *,
    share: str = "component",
    supervised: bool = False,
    n_train: int = 30,
    seed: int = 0,
    options: MethodOptions | None = None,
    progress: ProgressCallback | None = None,
    cache_mb: float = 1024,
    registry: MethodRegistry | None = None,
) -> TrainResult:
    """Train a step model into RUN = ``out`` (resuming if it was interrupted).

    The split is split 0 of the protocol with ``seed`` (:func:`~instructvid.steps.benchmark.protocol.
    make_splits`): ``n_train`` videos per primary task; related tasks join when
    ``options.related``. ``options.seed`` seeds training (set it to ``seed`` for one seed).
    ``cache_mb`` bounds the features kept in memory between epochs (speed vs memory only).
    The model is trained by the ``fit`` of the benchmark method of these settings
    (:func:`method_name`: ``component``, ``step-primary``, ``supervised``, …) in ``registry``
    (default: :func:`~instructvid.steps.benchmark.registry.default_registry`).

    Raises:
        RunConfigError: RUN holds a run with other settings.
        ValueError: ``supervised`` with a sharing level other than ``task``.
    """
    options = options or MethodOptions(seed=seed)
    if supervised and share != "task":
        raise ValueError(f"the supervised topline is task-specific (share 'task'), got {share!r}")
    spec = (registry if registry is not None else default_registry())[
        method_name(share, supervised, options.related)
    ]
    assert spec.fit is not None
    check_splits(data, make_splits(data, n_splits=1, n_train=n_train, seed=seed), n_train)
    layout = RunLayout(Path(out))
    config = {
        "kind": "instructvid steps train",
        "share": share,
        "supervised": supervised,
        "n_train": n_train,
        "split_seed": seed,
        "data": {
            "release": str(data.paths.release.resolve()),
            "features": str(data.paths.features.resolve()),
            "constraints": str(data.paths.constraints.resolve()),
        },
        "options": _options_json(options),
    }
    if layout.config.is_file():
        old = json.loads(layout.config.read_text(encoding="utf-8"))
        if {k: v for k, v in old.items() if k != "data"} != {
            k: v for k, v in config.items() if k != "data"
        }:
            raise RunConfigError(
                f"{layout.root} already holds a run with other settings "
                f"({_difference(old, config)}); use another --out folder"
            )
    else:
        atomic_write_json(layout.config, config)
    split = make_splits(data, n_splits=1, n_train=n_train, seed=seed)[0]
    # Related tasks have no ground truth: the supervised topline never uses them.
    train = training_set(data, split, related=options.related and not supervised)
    if not layout.split.is_file():
        atomic_write_json(
            layout.split,
            {
                "train": train,
                "test": split.test,
                "val": {t: data.val_videos.get(t, []) for t in data.primary},
            },
        )
    if layout.is_finished():
        history = (
            json.loads(layout.history.read_text(encoding="utf-8"))
            if layout.history.is_file()
            else []
        )
        return TrainResult(StepModel.load(layout.model_dir), history, len(history), True)

    learner = spec.fit(
        data,
        train,
        options,
        checkpoint=layout.checkpoint,
        progress=progress,
        cache_mb=cache_mb,
    )
    atomic_write_json(layout.history, learner.history_)
    learner.model_.save(layout.model_dir)
    return TrainResult(learner.model_, learner.history_, learner.resumed_from_, False)


def _difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    diffs = []
    for key in sorted(set(old) | set(new)):
        if key == "data":
            continue
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += [
                f"{key}.{k}: {a.get(k)!r} → {b.get(k)!r}"
                for k in sorted(set(a) | set(b))
                if a.get(k) != b.get(k)
            ]
        elif a != b:
            diffs.append(f"{key}: {a!r} → {b!r}")
    return "; ".join(diffs) or "unknown difference"


@dataclass(frozen=True)
class LoadedRun:
    """A finished run: its config, split and model."""

    layout: RunLayout
    config: dict[str, Any]
    split: dict[str, dict[str, list[str]]]
    model: StepModel

    @property
    def method(self) -> str:
        """The method name used in result JSON (as in ``steps benchmark --methods``)."""
        return method_name(
            str(self.config["share"]),
            bool(self.config.get("supervised")),
            bool(self.config.get("options", {}).get("related", True)),
        )


def load_run(run: str | Path) -> LoadedRun:
    """Open a finished RUN folder.

    Raises:
        RunConfigError: not a run folder, or training has not finished.
    """
    layout = RunLayout(Path(run))
    if not layout.config.is_file():
        raise RunConfigError(f"{layout.root} is not a run folder (no config.json)")
    if not layout.is_finished():
        raise RunConfigError(
            f"{layout.root}: training has not finished (no model/); rerun `steps train` with "
            "the same options to resume it"
        )
    config = json.loads(layout.config.read_text(encoding="utf-8"))
    split = json.loads(layout.split.read_text(encoding="utf-8"))
    return LoadedRun(layout, config, split, StepModel.load(layout.model_dir))


def open_run_data(loaded: LoadedRun, *, root: str | Path | None = None) -> CrossTaskData:
    """The dataset a run was trained on (the folders recorded in its config, or ``root``)."""
    if root is not None:
        return CrossTaskData.open(root)
    paths = loaded.config["data"]
    return CrossTaskData.open(
        None,
        release=paths["release"],
        features=paths["features"],
        constraints=paths["constraints"],
    )


def evaluate_run(
    run: str | Path,
    *,
    data_root: str | Path | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Recall (and step mAP) of a finished run on the test split recorded in it.

    Returns:
        ``{"metric": "recall", "per_task", "mean", "n_videos", "method", "map",
        "map_per_task", "run", "share", "related", "constraints", "task_titles"}``
        (fractions; ``task_titles`` maps each task id to its title).
    """
    from instructvid.steps.training.predict import predict_videos

    loaded = load_run(run)
    data = open_run_data(loaded, root=data_root)
    test = {t: v for t, v in loaded.split["test"].items() if v}
    if not test:
        raise RunConfigError(f"{loaded.layout.split}: the run's split has no test video")
    labels, scores = predict_videos(loaded.model, data, test, progress=progress)
    truth = {t: {v: data.ground_truth(t, v) for v in vids} for t, vids in test.items()}
    recall = crosstask_recall(truth, labels)
    mean_ap = step_map(truth, scores)
    result = recall.to_json(loaded.method)
    options = loaded.config.get("options", {})
    result.update(
        {
            "map": mean_ap.mean,
            "map_per_task": mean_ap.per_task,
            "run": str(loaded.layout.root),
            "share": loaded.config.get("share"),
            "related": options.get("related"),
            "constraints": options.get("constraints"),
            "task_titles": {t: data.task(t).title for t in result["per_task"]},
        }
    )
    return result


def method_name(share: str, supervised: bool, related: bool) -> str:
    """The benchmark name of a configuration (``component``, ``step-primary``, …)."""
    if supervised:
        return "supervised"
    if share in ("step", "component") and not related:
        return f"{share}-primary"
    return share
