"""Evaluation datasets of actionness (thesis §4.4.1): which videos are evaluated, which train.

An :class:`EvalSet` holds the evaluated videos (:class:`EvalVideo`: duration, step segments in
seconds) and the training part (which feeds the supervised topline and the temporal prior):

* :func:`coin_eval_set`: a COIN-layout JSON; one subset is evaluated (default ``testing``),
  another is the training part (default ``training``);
* :func:`crosstask_eval_set`: a CrossTask ``DATA`` folder, split at random (seeded) like the
  thesis: 2,062 training / 688 test annotated primary videos, i.e. a test fraction of
  688 / 2,750 applied to however many annotated videos there are (a synthetic world is split
  proportionally). Durations are the feature files' lengths (one row per second).

:class:`MethodResult` is what one method scores on an :class:`EvalSet` (frame AP, AR@AN, the
score-vs-time profile): produced by the evaluation, written by its report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.coin import read_coin
from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError
from instructvid.io.ids import safe_join
from instructvid.metrics.actionness import ARAN, FrameAP
from instructvid.types import PathLike

__all__ = [
    "CROSSTASK_TEST_FRACTION",
    "EvalSet",
    "EvalVideo",
    "MethodResult",
    "coin_eval_set",
    "crosstask_eval_set",
]


#: Thesis split of CrossTask for actionness: 2,062 training / 688 test videos.
CROSSTASK_TEST_FRACTION = 688 / (2062 + 688)


@dataclass(frozen=True)
class EvalVideo:
    """One annotated video: duration (s), step segments (n, 2) in seconds, subset, category."""

    video_id: str
    duration: float
    segments: np.ndarray
    subset: str = "testing"
    category: str = ""


@dataclass
class EvalSet:
    """Videos to evaluate (``videos``) and the training part (``train``) of a dataset.

    ``features`` maps video ids to per-second feature files when features exist.
    """

    videos: dict[str, EvalVideo]
    train: dict[str, EvalVideo]
    source: str
    features: dict[str, Path] = field(default_factory=dict)

    def feature_path(self, vid: str) -> Path:
        if vid not in self.features:
            raise FileNotFoundError(
                f"no feature file for video {vid!r} (expected <features>/{vid}.npy; give --features)"
            )
        return self.features[vid]


def _features_in(folder: PathLike | None, ids: Iterable[str]) -> dict[str, Path]:
    if folder is None:
        return {}
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: feature folder not found (expected <vid>.npy files)")
    paths = {v: safe_join(folder, f"{v}.npy") for v in ids}
    return {v: p for v, p in paths.items() if p.is_file()}


def coin_eval_set(
    path: PathLike,
    *,
    subset: str = "testing",
    train_subset: str = "training",
    features: PathLike | None = None,
    category_key: str = "class",
) -> EvalSet:
    """A COIN-layout annotation file: ``subset`` is evaluated, ``train_subset`` is the training part.

    ``category_key``: ``"class"`` (the task) or an extra key such as ``"domain"``.
    """
    coin = read_coin(path)

    def conv(v: Any) -> EvalVideo:
        cat = v.cls if category_key == "class" else str(v.extra.get(category_key, ""))
        return EvalVideo(v.video_id, v.duration, v.segment_array(), v.subset, cat)

    videos = {k: conv(v) for k, v in coin.items() if v.subset == subset}
    if not videos:
        raise ValueError(
            f"{path}: no video in subset {subset!r} "
            f"(subsets present: {sorted({v.subset for v in coin.values()})})"
        )
    train = {k: conv(v) for k, v in coin.items() if v.subset == train_subset}
    return EvalSet(
        videos, train, f"{Path(path).name} ({subset})", _features_in(features, coin.keys())
    )


def crosstask_eval_set(
    data: PathLike,
    *,
    seed: int = 0,
    features: PathLike | None = None,
    test_fraction: float = CROSSTASK_TEST_FRACTION,
) -> EvalSet:
    """CrossTask ``DATA``: annotated primary videos split at random (seeded) into train / test.

    Raises:
        CrossTaskFormatError: unreadable release files or feature files.
    """
    ct = CrossTaskData.open(data, features=features)
    pairs = [
        (t, v)
        for t in sorted(ct.primary)
        for v in ct.videos.get(t, [])
        if ct.has_annotation(t, v) and ct.paths.feature(v).is_file()
    ]
    if not pairs:
        raise CrossTaskFormatError(
            ct.paths.annotations, "no annotated primary video with a feature file"
        )
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(pairs))
    n_test = max(1, round(test_fraction * len(pairs)))
    test_idx = set(perm[:n_test].tolist())
    videos: dict[str, EvalVideo] = {}
    train: dict[str, EvalVideo] = {}
    paths: dict[str, Path] = {}
    for i, (task, vid) in enumerate(pairs):
        segs = ct.segments(task, vid)
        arr = np.array([[s.start, s.end] for s in segs], dtype=np.float64).reshape(-1, 2)
        subset = "testing" if i in test_idx else "training"
        ev = EvalVideo(vid, float(ct.n_frames(vid)), arr, subset, task)
        (videos if subset == "testing" else train)[vid] = ev
        paths[vid] = ct.paths.feature(vid)
    return EvalSet(videos, train, f"CrossTask {Path(data).name} (random split, seed {seed})", paths)


@dataclass
class MethodResult:
    """Metrics of one method (``frame`` is None for proposal-only methods)."""

    name: str
    frame: FrameAP | None = None
    aran: ARAN | None = None
    profile: np.ndarray | None = None  # (bins,) mean within-video percentile vs time
