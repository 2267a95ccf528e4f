"""Actionness in step localization (thesis eq. 4.4, Table 4.2): sources and the benchmark rows.

The step capability sees actionness only as plain per-second arrays (T,) — one value per
feature row of a video — given by an :class:`ActionnessSource`:

* :class:`FolderActionness`: a folder of ``<video_id>.npy`` files, e.g. written by
  ``instructvid actionness score`` (format: :mod:`instructvid.io.scores`);
* :class:`ComputedActionness`: any function of a video's (T, d) features (the command line
  passes a trained actionness model's ``score_video``), cached as ``<video_id>.npy`` under
  ``cache_root/<identity hash>/`` (written atomically, so an interrupted benchmark reuses what
  was scored and a different model never reuses another's arrays).

:class:`ActionnessSettings` adds the weight: ``alpha`` fixed, or chosen per split on the fixed
validation videos (``videos_val.csv``) by :func:`~instructvid.align.combine.choose_alpha`
(CrossTask recall, ties → smallest α). :func:`actionness_result` turns a method's step scores
(T, K) on a split's test (and validation) videos into the ``<method>+actionness`` result:
labels by the exactly-one DP on ``(1 − α) f + α S``, recall, and the step mAP of the combined
scores. Eq. 4.4 itself is :mod:`instructvid.align.combine`.

Methods without step scores (``uniform``) have nothing to add actionness to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from instructvid.align.combine import DEFAULT_ALPHAS, choose_alpha, combine_scores
from instructvid.align.dp import ordered_assignment_batch
from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import CrossTaskData
from instructvid.io.scores import ActionnessDir, ScoreFileError, check_actionness
from instructvid.metrics.recall import crosstask_recall
from instructvid.metrics.step_map import step_map

__all__ = [
    "ActionnessSettings",
    "ActionnessSource",
    "ComputedActionness",
    "FolderActionness",
    "actionness_result",
    "alpha_key",
    "file_identity",
    "validation_videos",
]

Videos = Mapping[str, Sequence[str]]
ScoresByTask = Mapping[str, Mapping[str, np.ndarray]]


class ActionnessSource(Protocol):
    """Per-second actionness of a dataset's videos, and a JSON description (a cache key)."""

    def __call__(self, data: CrossTaskData, video_id: str) -> np.ndarray:
        """float64 (T,), T = the video's feature rows (seconds)."""
        ...

    def key(self) -> dict[str, Any]:
        """JSON-able description that changes whenever the arrays may change."""
        ...


class FolderActionness:
    """Actionness read from ``<root>/<video_id>.npy`` (float (T,), T = feature rows).

    The cache key holds the folder and a fingerprint of its files (names, sizes, modification
    times): rewriting a file invalidates results computed from it.
    """

    def __init__(self, root: str | Path) -> None:
        self.dir = ActionnessDir(root)
        self._key: dict[str, Any] | None = None

    def __call__(self, data: CrossTaskData, video_id: str) -> np.ndarray:
        return self.dir.read(video_id, n_seconds=data.n_frames(video_id))

    def key(self) -> dict[str, Any]:
        if self._key is None:
            self._key = {
                "kind": "folder",
                "path": str(self.dir.root.resolve()),
                "files": self.dir.fingerprint(),
            }
        return self._key


def file_identity(path: str | Path) -> dict[str, str]:
    """``{"file": resolved path, "sha256": content hash}`` of a (small) file, e.g. a model."""
    path = Path(path).resolve()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"file": str(path), "sha256": digest.hexdigest()}


class ComputedActionness:
    """Actionness computed from features by ``score_fn`` and cached on disk.

    Args:
        score_fn: (T, d) per-second features → (T,) actionness (e.g. a trained model's
            ``score_video``).
        cache_root: the arrays go to ``cache_root/<sha256(identity)[:12]>/<video_id>.npy``
            (atomic writes; ``identity.json`` beside them says what produced them).
        identity: JSON-able description of ``score_fn`` (model file and hash, clip length …);
            it is the cache key, so it must change whenever ``score_fn`` does.
    """

    def __init__(
        self,
        score_fn: Callable[[np.ndarray], np.ndarray],
        cache_root: str | Path,
        identity: Mapping[str, Any],
    ) -> None:
        self.score_fn = score_fn
        self.identity = dict(identity)
        tag = hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()[:12]
        self.dir = ActionnessDir(Path(cache_root) / tag, create=True)
        atomic_write_json(self.dir.root / "identity.json", self.identity)
        self.computed = 0  # videos scored by this object (the others came from the cache)

    def __call__(self, data: CrossTaskData, video_id: str) -> np.ndarray:
        n_seconds = data.n_frames(video_id)
        if self.dir.has(video_id):
            try:
                return self.dir.read(video_id, n_seconds=n_seconds)
            except ScoreFileError:
                pass  # e.g. the features changed length: score again
        values = check_actionness(
            self.score_fn(data.features(video_id)),
            n_seconds=n_seconds,
            source=f"actionness computed for video {video_id!r}",
        )
        self.dir.write(video_id, values)
        self.computed += 1
        return values

    def key(self) -> dict[str, Any]:
        return {"kind": "computed", **self.identity}


@dataclass(frozen=True)
class ActionnessSettings:
    """How actionness joins the step scores in the benchmark.

    Attributes:
        source: where the per-second arrays come from.
        alpha: the weight of eq. 4.4 in ``[0, 1]``; ``None`` = chosen per split on the
            validation videos among ``alphas``.
        alphas: candidates when choosing.
        standardize: z-score the actionness within each video first.
    """

    source: ActionnessSource
    alpha: float | None = None
    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    standardize: bool = False

    def __post_init__(self) -> None:
        if self.alpha is not None and not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        if not self.alphas or any(not 0 <= a <= 1 for a in self.alphas):
            raise ValueError(f"candidate alphas must be in [0, 1], got {list(self.alphas)}")

    @property
    def needs_validation(self) -> bool:
        """Whether α is chosen on the validation videos (their step scores are needed)."""
        return self.alpha is None

    def key(self) -> dict[str, Any]:
        """The settings as JSON (part of the per-split cache key of ``<method>+actionness``)."""
        return {
            "source": self.source.key(),
            "alpha": None if self.alpha is None else float(self.alpha),
            "alphas": [float(a) for a in self.alphas] if self.alpha is None else None,
            "standardize": self.standardize,
        }


def alpha_key(alpha: float) -> str:
    """JSON key of an α value: ``0.8`` → ``"0.8"``, ``1.0`` → ``"1"``."""
    return f"{float(alpha):g}"


def validation_videos(data: CrossTaskData, tasks: Sequence[str]) -> dict[str, list[str]]:
    """``{task_id: [video_id, ...]}``: the annotated fixed validation videos (``videos_val.csv``)
    of ``tasks`` (tasks without one are left out)."""
    val = {t: [v for v in data.val_videos.get(t, []) if data.has_annotation(t, v)] for t in tasks}
    return {t: v for t, v in val.items() if v}


def actionness_result(
    data: CrossTaskData,
    settings: ActionnessSettings,
    test_scores: ScoresByTask,
    val_scores: ScoresByTask | None = None,
) -> dict[str, Any]:
    """Eq. 4.4 on one split: choose α on validation (unless fixed), label and score the test.

    Args:
        data: the dataset (ground truth, feature lengths; features for computed sources).
        settings: source, α and its candidates.
        test_scores: ``{task: {video: (T, K) step scores}}`` of the test videos.
        val_scores: the same for the validation videos (needed when α is chosen).

    Returns:
        ``{"mean", "per_task", "n_videos", "map", "map_per_task", "alpha", "val_recall",
        "n_val_videos"}``: recall and mAP as fractions; ``val_recall`` maps each candidate α
        (:func:`alpha_key`) to the validation recall (``None`` when α is fixed).

    Raises:
        ValueError: α must be chosen but there is no validation video with step scores.
    """
    val_recall: dict[str, float] | None = None
    n_val = 0
    if settings.alpha is None:
        videos, tasks = [], []
        for task_id, by_vid in (val_scores or {}).items():
            for vid, f in by_vid.items():
                videos.append((f, settings.source(data, vid), data.ground_truth(task_id, vid)))
                tasks.append(task_id)
        if not videos:
            raise ValueError(
                "no annotated validation video (videos_val.csv) with step scores to choose "
                "alpha on; give a fixed alpha (--alpha)"
            )
        choice = choose_alpha(
            videos, settings.alphas, standardize=settings.standardize, task_ids=tasks
        )
        alpha = choice.alpha
        val_recall = {alpha_key(a): r for a, r in choice.recall.items()}
        n_val = len(videos)
    else:
        alpha = float(settings.alpha)
    labels: dict[str, dict[str, np.ndarray]] = {}
    combined: dict[str, dict[str, np.ndarray]] = {}
    for task_id, by_vid in test_scores.items():
        vids = list(by_vid)
        combined[task_id] = {
            vid: combine_scores(
                by_vid[vid], settings.source(data, vid), alpha, standardize=settings.standardize
            )
            for vid in vids
        }
        assigned = ordered_assignment_batch(
            [combined[task_id][v] for v in vids], exactly_one=True, maximize=True
        )
        labels[task_id] = {v: a.copy() for v, a in zip(vids, assigned, strict=True)}
    truth = {
        task_id: {vid: data.ground_truth(task_id, vid) for vid in by_vid}
        for task_id, by_vid in test_scores.items()
    }
    recall = crosstask_recall(truth, labels)
    mean_ap = step_map(truth, combined)
    return {
        "mean": recall.mean,
        "per_task": dict(recall.per_task),
        "n_videos": recall.n_videos,
        "map": mean_ap.mean,
        "map_per_task": dict(mean_ap.per_task),
        "alpha": alpha,
        "val_recall": val_recall,
        "n_val_videos": n_val,
    }
