"""Evaluating actionness (thesis §4.4.1, §4.4.3): datasets, baselines, metrics, report.

Datasets (:class:`EvalSet`): COIN-layout JSON (a subset is evaluated; the ``training`` subset
feeds the supervised topline and the temporal prior) or a CrossTask ``DATA`` folder, split at
random (seeded) like the thesis: 2,062 training / 688 test annotated primary videos, i.e. a test
fraction of 688 / 2,750 applied to however many annotated videos there are (a synthetic world
is split proportionally). CrossTask durations are the feature files' lengths (one row/second).

Methods: a *score* method gives scores per 0.2 s segment (chance baselines) or per second (the
learned model, the supervised topline, score files); it is evaluated by frame AP and, through
TAG + NMS on a per-second grid (0.2 s scores are sub-sampled to the first segment of each
second), by AR@AN. A *proposal* method (temporal prior, a proposal file) gets AR@AN only.

Baselines:
    ``chance``      uniform random score per 0.2 s segment (seed, video id → generator);
    ``trimX``       chance, with the segments in the first and last X of the video set to 0
                    (``trim0.3`` = the thesis's "chance trim@0.3");
    ``prior``       proposals: start and duration (both normalised by the video's duration)
                    drawn independently from their empirical distributions over the
                    ground truth of the training part; 100 per video, scores decreasing;
    ``supervised``  logistic regression on per-second features, action (second overlaps a step)
                    vs background, trained on the training part (a topline).

Outputs (``OUT``): ``<method>.json`` (frame AP: ``{"metric": "frame_ap", "method", "mean",
"per_video_mean", ...}``), ``<method>.proposals.json`` (``{"metric": "ar_an_auc", "method",
"mean": AUC, "ar_at": {"1", "5", "10", "100"}, ...}``), ``proposals/<method>.json`` (the proposals,
ActivityNet layout), ``results.md``, ``ar_an.png`` and ``score_vs_time.png`` (mean within-video
percentile of the score against normalised time, like the thesis's Fig. 4.3).
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import rankdata

from instructvid.actionness.model import ActionnessModel
from instructvid.actionness.proposals import TAGConfig, score_video, video_proposals
from instructvid.io.atomic import atomic_open, atomic_write_json, atomic_write_text
from instructvid.io.coin import read_coin
from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError, open_features
from instructvid.io.proposals import VideoProposals, read_proposals, write_proposals
from instructvid.io.scores import ActionnessDir
from instructvid.metrics.actionness import (
    ARAN,
    FrameAP,
    average_recall_vs_an,
    frame_ap,
    n_segments,
    per_second_to_segments,
    segment_labels,
    trim_mask,
)
from instructvid.runtime import limit_torch_threads

__all__ = [
    "AR_AT",
    "CROSSTASK_TEST_FRACTION",
    "EvalSet",
    "EvalVideo",
    "MethodResult",
    "ScoreSource",
    "baseline_sources",
    "coin_eval_set",
    "crosstask_eval_set",
    "evaluate_methods",
    "model_source",
    "prior_proposals",
    "scores_dir_source",
    "supervised_source",
    "training_selection",
]

PathLike = str | os.PathLike[str]
ProgressFn = Callable[[int, int], None]

#: Thesis split of CrossTask for actionness: 2,062 training / 688 test videos.
CROSSTASK_TEST_FRACTION = 688 / (2062 + 688)
#: AN values reported beside the AUC.
AR_AT = (1, 5, 10, 100)


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
    return {v: folder / f"{v}.npy" for v in ids if (folder / f"{v}.npy").is_file()}


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


# --------------------------------------------------------------------------------------------
# Score sources


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


# --------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class MethodResult:
    """Metrics of one method (``frame`` is None for proposal-only methods)."""

    name: str
    frame: FrameAP | None = None
    aran: ARAN | None = None
    profile: np.ndarray | None = None  # (bins,) mean within-video percentile vs time


def _gt(eval_set: EvalSet) -> dict[str, np.ndarray]:
    return {k: v.segments for k, v in eval_set.videos.items()}


def _aran(eval_set: EvalSet, props: Mapping[str, VideoProposals]) -> ARAN:
    return average_recall_vs_an(
        _gt(eval_set), {k: (p.segments, p.scores) for k, p in props.items()}
    )


def time_profile(values: np.ndarray, bins: int = 20) -> np.ndarray:
    """Within-video percentile of ``values`` (n,) averaged in ``bins`` bins of normalised time."""
    n = values.size
    r = (rankdata(values) - 0.5) / n
    b = np.minimum((np.arange(n) + 0.5) * bins // n, bins - 1).astype(int)
    counts = np.bincount(b, minlength=bins)
    sums = np.bincount(b, weights=r, minlength=bins)
    with np.errstate(invalid="ignore"):
        return sums / counts


def _profile_mean(profiles: list[np.ndarray]) -> np.ndarray:
    return np.nanmean(np.stack(profiles), axis=0) if profiles else np.full(20, np.nan)


def evaluate_methods(
    eval_set: EvalSet,
    out: PathLike,
    *,
    sources: Sequence[ScoreSource] = (),
    proposal_sets: Mapping[str, Mapping[str, VideoProposals]] | None = None,
    proposals: bool = True,
    tag: TAGConfig | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, MethodResult]:
    """Evaluate score methods (frame AP + AR@AN of their TAG proposals) and proposal sets.

    Writes the files listed in the module docstring into ``out`` and returns the results.
    """
    out = Path(out)
    tag = tag or TAGConfig()
    labels = {k: segment_labels(v.duration, v.segments) for k, v in eval_set.videos.items()}
    results: dict[str, MethodResult] = {}
    gt_profile = _profile_mean(
        [_binned_fraction(lab.astype(np.float64)) for lab in labels.values()]
    )
    total = len(sources) * len(eval_set.videos)
    done = 0
    for src in sources:
        seg_scores: dict[str, np.ndarray] = {}
        props: dict[str, VideoProposals] = {}
        profiles = []
        for vid, v in eval_set.videos.items():
            values, step = src.fn(v)
            values = np.asarray(values, dtype=np.float64).reshape(-1)
            n_seg = labels[vid].size
            if math.isclose(step, 1.0):
                seg = per_second_to_segments(values, n_seg)
                per_second = values
            else:
                if values.size != n_seg:
                    raise ValueError(
                        f"method {src.name!r}, video {vid!r}: {values.size} scores per 0.2 s "
                        f"segment, expected {n_seg} (ceil(duration / 0.2))"
                    )
                seg = values
                per_second = values[::5]
            seg_scores[vid] = seg
            profiles.append(time_profile(seg))
            if proposals:
                props[vid] = video_proposals(per_second, v.duration, step=1.0, config=tag)
            done += 1
            if progress is not None:
                progress(done, total)
        res = MethodResult(src.name, frame=frame_ap(seg_scores, labels))
        res.profile = _profile_mean(profiles)
        _write_frame(out, res, eval_set)
        if proposals:
            write_proposals(out / "proposals" / f"{src.name}.json", props)
            res.aran = _aran(eval_set, props)
            _write_aran(out, res, eval_set)
        results[src.name] = res
    for name, props in (proposal_sets or {}).items():
        missing = [v for v in eval_set.videos if v not in props]
        res = MethodResult(name, aran=_aran(eval_set, props))
        _write_aran(out, res, eval_set, n_missing=len(missing))
        results[name] = res
    write_report(out, results, eval_set, gt_profile)
    return results


def _binned_fraction(lab: np.ndarray, bins: int = 20) -> np.ndarray:
    n = lab.size
    b = np.minimum((np.arange(n) + 0.5) * bins // n, bins - 1).astype(int)
    with np.errstate(invalid="ignore"):
        return np.bincount(b, weights=lab, minlength=bins) / np.bincount(b, minlength=bins)


def _write_frame(out: Path, res: MethodResult, eval_set: EvalSet) -> None:
    f = res.frame
    assert f is not None
    atomic_write_json(
        out / f"{res.name}.json",
        {
            "metric": "frame_ap",
            "method": res.name,
            "mean": f.pooled,
            "per_video_mean": f.per_video_mean,
            "n_videos": f.n_videos,
            "n_segments": f.n_segments,
            "positive_fraction": f.positive_fraction,
            "segment_seconds": 0.2,
            "dataset": eval_set.source,
        },
    )


def _write_aran(out: Path, res: MethodResult, eval_set: EvalSet, n_missing: int = 0) -> None:
    a = res.aran
    assert a is not None
    atomic_write_json(
        out / f"{res.name}.proposals.json",
        {
            "metric": "ar_an_auc",
            "method": res.name,
            "mean": a.auc,
            "ar_at": {str(k): a.ar_at(k) for k in AR_AT},
            "n_videos": a.n_videos,
            "n_videos_without_proposals": n_missing,
            "tiou_thresholds": [round(float(t), 2) for t in np.linspace(0.5, 0.95, 10)],
            "an": a.proposals_per_video.tolist(),
            "ar": a.avg_recall.tolist(),
            "dataset": eval_set.source,
        },
    )


def load_proposal_file(
    path: PathLike, name: str | None = None
) -> tuple[str, dict[str, VideoProposals]]:
    """``(method name, proposals)`` of an ActivityNet-style file (name = file stem by default)."""
    _version, props = read_proposals(path)
    return name or Path(path).stem, props


# --------------------------------------------------------------------------------------------
# Report


def _save(fig: Any, path: Path) -> Path:
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)
    return path


def write_report(
    out: Path, results: Mapping[str, MethodResult], eval_set: EvalSet, gt_profile: np.ndarray
) -> None:
    """``results.md``, ``ar_an.png`` and ``score_vs_time.png`` in ``out``."""
    lines = [
        f"# Actionness evaluation — {eval_set.source}",
        "",
        f"{len(eval_set.videos)} videos. Frame AP on 0.2 s segments (pooled over all segments; "
        "per-video mean beside it); AR@AN with tIoU 0.5:0.05:0.95 (ActivityNet protocol), "
        "AUC as a fraction of the largest AN (100).",
        "",
        "| method | frame AP % (pooled) | frame AP % (per video) | AR@1 | AR@5 | AR@10 | AR@100 | AUC % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        fa = (
            (f"{100 * r.frame.pooled:.1f}", f"{100 * r.frame.per_video_mean:.1f}")
            if r.frame
            else ("–", "–")
        )
        ar = (
            [f"{100 * r.aran.ar_at(k):.1f}" for k in AR_AT] + [f"{100 * r.aran.auc:.1f}"]
            if r.aran
            else ["–"] * 5
        )
        lines.append(f"| {name} | {fa[0]} | {fa[1]} | " + " | ".join(ar) + " |")
    lines += [
        "",
        "Thesis Table 4.1 (frame AP %, COIN / CrossTask): chance 45.6 / 27.5, chance trim@0.3 "
        "53.5 / 32.6, ours 59.0 / 47.6, supervised 70.7 / 56.2.",
        "",
        "![AR@AN](ar_an.png)",
        "",
        "![score vs time](score_vs_time.png)",
        "",
    ]
    atomic_write_text(out / "results.md", "\n".join(lines))

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in results.items():
        if r.aran is not None:
            ax.plot(r.aran.proposals_per_video, 100 * r.aran.avg_recall, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("average number of proposals per video (AN)")
    ax.set_ylabel("average recall (%)")
    ax.set_title("AR@AN, tIoU 0.5:0.05:0.95")
    ax.grid(alpha=0.3)
    if any(r.aran is not None for r in results.values()):
        ax.legend()
    fig.tight_layout()
    _save(fig, out / "ar_an.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    x = (np.arange(gt_profile.size) + 0.5) / gt_profile.size
    for name, r in results.items():
        if r.profile is not None:
            ax.plot(x, r.profile, label=f"{name} (score percentile)")
    ax.plot(x, gt_profile, "k--", label="ground truth (action fraction)")
    ax.set_xlabel("normalised video time")
    ax.set_ylabel("mean within-video percentile / action fraction")
    ax.set_ylim(0, 1)
    ax.set_title("Actionness against time (cf. thesis Fig. 4.3)")
    ax.legend(fontsize=7, loc="lower center", ncol=2, framealpha=0.8)
    fig.tight_layout()
    _save(fig, out / "score_vs_time.png")


# --------------------------------------------------------------------------------------------
# Choosing training videos (for ``actionness train`` and ``sweep``)


@dataclass
class TrainingSelection:
    """Training videos with their feature files, the evaluation list and categories."""

    features: dict[str, Path]
    eval_ids: set[str]
    eval_source: str
    categories: dict[str, str]
    n_without_features: int = 0


def read_id_list(path: PathLike) -> list[str]:
    """Video ids, one per line (blank lines and ``#`` comments ignored)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: video list not found (expected one video id per line)")
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line.split(",")[-1].strip() if "," in line else line)
    return ids


def training_selection(
    features_dir: PathLike,
    *,
    annotations: PathLike | None = None,
    crosstask: PathLike | None = None,
    train_subset: str = "training",
    eval_subset: str = "testing",
    videos: PathLike | None = None,
    exclude: PathLike | None = None,
    category_key: str = "class",
    seed: int = 0,
) -> TrainingSelection:
    """Which videos to train on, and which are evaluation videos (never trained on).

    * ``crosstask``: the training part of the seeded random split; its test part is excluded;
    * ``annotations`` (COIN layout): ``train_subset`` videos; ``eval_subset`` is excluded;
    * ``videos``: an explicit list of training ids (overrides the two above);
    * otherwise every ``<vid>.npy`` of ``features_dir``;
    * ``exclude``: more evaluation ids (one per line).

    Training videos without a feature file are skipped (counted); the overlap check itself is
    done by :func:`instructvid.actionness.train.train_actionness`.
    """
    folder = Path(features_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: feature folder not found (expected <vid>.npy files)")
    categories: dict[str, str] = {}
    eval_ids: set[str] = set()
    source = "the evaluation list"
    train_ids: list[str]
    if crosstask is not None:
        es = crosstask_eval_set(crosstask, seed=seed, features=folder)
        train_ids = list(es.train)
        eval_ids |= set(es.videos)
        categories = {k: v.category for k, v in es.train.items()}
        source = f"the CrossTask test split (seed {seed})"
    elif annotations is not None:
        es = coin_eval_set(
            annotations, subset=eval_subset, train_subset=train_subset, category_key=category_key
        )
        train_ids = list(es.train)
        eval_ids |= set(es.videos)
        categories = {k: v.category for k, v in es.train.items()}
        source = f"the {eval_subset!r} subset of {Path(annotations).name}"
    else:
        train_ids = sorted(p.stem for p in folder.glob("*.npy"))
    if videos is not None:
        train_ids = read_id_list(videos)
    if exclude is not None:
        eval_ids |= set(read_id_list(exclude))
        source = f"{source} / {Path(exclude).name}"
    feats = {v: folder / f"{v}.npy" for v in train_ids if (folder / f"{v}.npy").is_file()}
    missing = len(train_ids) - len(feats)
    if videos is not None and missing:
        first = next(v for v in train_ids if v not in feats)
        raise FileNotFoundError(
            f"{folder / (first + '.npy')}: feature file of training video {first!r} not found"
        )
    if not feats:
        raise FileNotFoundError(f"{folder}: no feature file for any training video")
    return TrainingSelection(feats, eval_ids, source, categories, missing)
