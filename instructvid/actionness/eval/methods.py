"""The methods an actionness evaluation compares: score sources and proposal sets.

A *score* method (:class:`ScoreSource`) gives scores per 0.2 s segment (the chance baselines)
or per second (the learned model, the supervised topline, score files); it gets frame AP and,
through TAG + NMS, AR@AN. A *proposal* method (the temporal prior, a proposal file) is a
mapping ``video id → VideoProposals`` and gets AR@AN only.

Baselines (thesis §4.4.3):
    ``chance``      uniform random score per 0.2 s segment (seed, video id → generator);
    ``trimX``       chance, with the segments in the first and last X of the video set to 0
                    (``trim0.3`` = the thesis's "chance trim@0.3");
    ``prior``       proposals: start and duration (both normalised by the video's duration)
                    drawn independently from their empirical distributions over the
                    ground truth of the training part; 100 per video, scores decreasing;
    ``supervised``  logistic regression on per-second features, action (second overlaps a step)
                    vs background, trained on the training part (a topline).

Other methods: a trained model on feature files (:func:`model_source`), a folder of per-second
scores (:func:`scores_dir_source`), an ActivityNet-style proposal file
(:func:`load_proposal_file`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructvid.actionness.eval.sets import EvalSet, EvalVideo
from instructvid.actionness.model import ActionnessModel
from instructvid.actionness.proposals import score_video
from instructvid.io.crosstask import open_features
from instructvid.io.proposals import VideoProposals, read_proposals
from instructvid.io.scores import ActionnessDir
from instructvid.metrics.actionness import n_segments, trim_mask
from instructvid.runtime import limit_torch_threads
from instructvid.types import PathLike

__all__ = [
    "ScoreSource",
    "baseline_sources",
    "load_proposal_file",
    "model_source",
    "prior_proposals",
    "scores_dir_source",
    "second_labels",
    "supervised_source",
]


@dataclass
class ScoreSource:
    """A method that scores videos: ``fn(video) -> (values, step_seconds)``.

    ``step`` is 0.2 (one value per 0.2 s segment) or 1.0 (one value per second).
    """

    name: str
    fn: Callable[[EvalVideo], tuple[np.ndarray, float]]


def _video_rng(seed: int, vid: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(vid.encode("utf-8"))])


def _parse_trim(name: str) -> float:
    try:
        value = float(name[4:])
    except ValueError:
        raise ValueError(f"baseline {name!r}: expected trim<fraction>, e.g. trim0.3") from None
    if not 0 < value < 0.5:
        raise ValueError(f"baseline {name!r}: the trimmed fraction must be in (0, 0.5)")
    return value


def baseline_sources(names: Sequence[str], *, seed: int = 0) -> list[ScoreSource]:
    """Score sources of ``chance`` and ``trimX`` (other names are handled elsewhere)."""
    sources = []
    for name in names:
        if name == "chance":

            def chance(v: EvalVideo) -> tuple[np.ndarray, float]:
                return _video_rng(seed, v.video_id).random(n_segments(v.duration)), 0.2

            sources.append(ScoreSource("chance", chance))
        elif name.startswith("trim"):
            frac = _parse_trim(name)

            def trimmed(v: EvalVideo, frac: float = frac) -> tuple[np.ndarray, float]:
                s = _video_rng(seed, v.video_id).random(n_segments(v.duration))
                s[trim_mask(v.duration, frac)] = 0.0
                return s, 0.2

            sources.append(ScoreSource(name, trimmed))
        else:
            raise ValueError(f"unknown score baseline {name!r} (chance, trimX)")
    return sources


def model_source(
    model: ActionnessModel, eval_set: EvalSet, *, name: str = "learned", clip_seconds: int = 1
) -> ScoreSource:
    """Per-second actionness of a trained model on the videos' feature files (each video scored
    on one torch thread, see :func:`~instructvid.runtime.limit_torch_threads`)."""

    def fn(v: EvalVideo) -> tuple[np.ndarray, float]:
        feats = open_features(eval_set.feature_path(v.video_id))
        with limit_torch_threads(1):
            return score_video(model, feats, clip_seconds=clip_seconds), 1.0

    return ScoreSource(name, fn)


def scores_dir_source(folder: PathLike, *, name: str | None = None) -> ScoreSource:
    """Per-second scores from ``<folder>/<vid>.npy`` (float (T,) arrays; any per-second cue).

    Read with :class:`instructvid.io.scores.ActionnessDir`: a missing folder or file raises
    ``FileNotFoundError``, a malformed array (not (T,), empty, non-finite) ``ValueError``;
    both name the file.
    """
    scores = ActionnessDir(folder)

    def fn(v: EvalVideo) -> tuple[np.ndarray, float]:
        return scores.read(v.video_id), 1.0

    return ScoreSource(name or Path(folder).name, fn)


def second_labels(v: EvalVideo, n_seconds: int) -> np.ndarray:
    """(n_seconds,) bool: second ``[t, t + 1)`` overlaps an annotated step."""
    t = np.arange(n_seconds)
    lab = np.zeros(n_seconds, dtype=bool)
    for s, e in v.segments:
        lab |= (t < e) & (t + 1 > s)
    return lab


def supervised_source(
    eval_set: EvalSet, *, seed: int = 0, max_seconds: int = 200_000, name: str = "supervised"
) -> ScoreSource:
    """Supervised linear topline: logistic regression per second on the training part."""
    from sklearn.linear_model import LogisticRegression

    train = [v for v in eval_set.train.values() if v.video_id in eval_set.features]
    if not train:
        raise ValueError("the supervised topline needs training videos with feature files")
    xs, ys = [], []
    for v in train:
        x = np.asarray(open_features(eval_set.features[v.video_id]), dtype=np.float32)
        xs.append(x)
        ys.append(second_labels(v, x.shape[0]))
    x_all = np.concatenate(xs)
    y_all = np.concatenate(ys)
    if x_all.shape[0] > max_seconds:
        keep = np.random.default_rng(seed).choice(x_all.shape[0], max_seconds, replace=False)
        x_all, y_all = x_all[keep], y_all[keep]
    if y_all.all() or not y_all.any():
        raise ValueError("the supervised topline needs both action and background seconds")
    clf = LogisticRegression(max_iter=2000).fit(x_all, y_all)

    def fn(v: EvalVideo) -> tuple[np.ndarray, float]:
        x = np.asarray(open_features(eval_set.feature_path(v.video_id)), dtype=np.float32)
        return clf.decision_function(x).astype(np.float64), 1.0

    return ScoreSource(name, fn)


def prior_proposals(
    eval_set: EvalSet, *, seed: int = 0, n_per_video: int = 100
) -> dict[str, VideoProposals]:
    """Temporal-prior proposals: normalised start and duration from the training ground truth.

    Falls back to the evaluated videos' own ground truth when there is no training part.
    """
    ref = eval_set.train or eval_set.videos
    starts, durs = [], []
    for v in ref.values():
        for s, e in v.segments:
            starts.append(min(s, v.duration) / v.duration)
            durs.append(max(0.0, min(e, v.duration) - s) / v.duration)
    if not starts:
        raise ValueError("the temporal prior needs annotated segments")
    starts_a, durs_a = np.asarray(starts), np.asarray(durs)
    out = {}
    for v in eval_set.videos.values():
        rng = _video_rng(seed, v.video_id)
        s = rng.choice(starts_a, n_per_video)
        d = rng.choice(durs_a, n_per_video)
        seg = np.stack([s, np.minimum(s + d, 1.0)], axis=1) * v.duration
        out[v.video_id] = VideoProposals(seg, 1.0 - np.arange(n_per_video) / n_per_video)
    return out


def load_proposal_file(
    path: PathLike, name: str | None = None
) -> tuple[str, dict[str, VideoProposals]]:
    """``(method name, proposals)`` of an ActivityNet-style file (name = file stem by default)."""
    _version, props = read_proposals(path)
    return name or Path(path).stem, props
