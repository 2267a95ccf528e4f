"""Evaluating actionness (thesis §4.4.1, §4.4.3): every method's frame AP and AR@AN.

:func:`evaluate_methods` runs the methods on the videos of an
:class:`~instructvid.actionness.eval.sets.EvalSet` and returns a :class:`MethodResult` per
method. A *score* method (:class:`~instructvid.actionness.eval.methods.ScoreSource`) gives
scores per 0.2 s segment (chance baselines) or per second (the learned model, the supervised
topline, score files); it is evaluated by frame AP and, through TAG + NMS on a per-second grid
(0.2 s scores are sub-sampled to the first segment of each second), by AR@AN. A *proposal*
method (temporal prior, a proposal file) gets AR@AN only. Each method's proposals are written to
``OUT/proposals/<method>.json`` (ActivityNet layout).

The parts, each in its own module:

* :mod:`~instructvid.actionness.eval.sets`: the datasets (COIN layout, CrossTask split) and
  :class:`~instructvid.actionness.eval.sets.MethodResult`, the metrics of one method on one;
* :mod:`~instructvid.actionness.eval.methods`: the baselines and other methods (chance, trimX,
  prior, supervised, models, score folders, proposal files);
* :mod:`~instructvid.actionness.eval.report`: the files written (``<method>.json``,
  ``<method>.proposals.json``, ``results.md``, ``ar_an.png``, ``score_vs_time.png``);
* :mod:`~instructvid.actionness.video_selection`: the training videos of ``actionness train``
  and ``sweep`` (never the evaluated ones).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from instructvid.actionness.eval.methods import ScoreSource
from instructvid.actionness.eval.report import (
    write_ar_an_json,
    write_frame_ap_json,
    write_report,
)
from instructvid.actionness.eval.sets import EvalSet, MethodResult
from instructvid.actionness.proposals import TAGConfig, video_proposals
from instructvid.io.ids import safe_join
from instructvid.io.proposals import VideoProposals, write_proposals
from instructvid.metrics.actionness import (
    ARAN,
    average_recall_vs_an,
    frame_ap,
    per_second_to_segments,
    segment_labels,
)
from instructvid.types import PathLike, ProgressCallback

__all__ = ["evaluate_methods", "time_profile"]


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


def _binned_fraction(lab: np.ndarray, bins: int = 20) -> np.ndarray:
    n = lab.size
    b = np.minimum((np.arange(n) + 0.5) * bins // n, bins - 1).astype(int)
    with np.errstate(invalid="ignore"):
        return np.bincount(b, weights=lab, minlength=bins) / np.bincount(b, minlength=bins)


def evaluate_methods(
    eval_set: EvalSet,
    out: PathLike,
    *,
    sources: Sequence[ScoreSource] = (),
    proposal_sets: Mapping[str, Mapping[str, VideoProposals]] | None = None,
    proposals: bool = True,
    tag: TAGConfig | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, MethodResult]:
    """Evaluate score methods (frame AP + AR@AN of their TAG proposals) and proposal sets.

    Writes the files of :mod:`~instructvid.actionness.eval.report` and ``proposals/<method>.json``
    into ``out`` and returns the results.
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
        write_frame_ap_json(out, res, eval_set)
        if proposals:
            write_proposals(safe_join(out / "proposals", f"{src.name}.json"), props)
            res.aran = _aran(eval_set, props)
            write_ar_an_json(out, res, eval_set)
        results[src.name] = res
    for name, props in (proposal_sets or {}).items():
        missing = [v for v in eval_set.videos if v not in props]
        res = MethodResult(name, aran=_aran(eval_set, props))
        write_ar_an_json(out, res, eval_set, n_missing=len(missing))
        results[name] = res
    write_report(out, results, eval_set, gt_profile)
    return results
