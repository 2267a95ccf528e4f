"""The files of an actionness evaluation: per-method JSON, ``results.md`` and the two plots.

Written into ``OUT`` (see ``docs/actionness.md``): ``<method>.json`` (frame AP:
``{"metric": "frame_ap", "method", "mean", "per_video_mean", ...}``), ``<method>.proposals.json``
(``{"metric": "ar_an_auc", "method", "mean": AUC, "ar_at": {"1", "5", "10", "100"}, ...}``),
``results.md``, ``ar_an.png`` and ``score_vs_time.png`` (mean within-video percentile of the
score against normalised time, like the thesis's Fig. 4.3). Every write is atomic.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from instructvid.actionness.eval.sets import EvalSet, MethodResult
from instructvid.io.atomic import atomic_save_figure, atomic_write_json, atomic_write_text
from instructvid.io.ids import safe_join

__all__ = ["AR_AT", "write_ar_an_json", "write_frame_ap_json", "write_report"]

#: AN values reported beside the AUC.
AR_AT = (1, 5, 10, 100)


def write_frame_ap_json(out: Path, res: MethodResult, eval_set: EvalSet) -> None:
    """``out/<method>.json``: the frame AP of a score method."""
    f = res.frame
    assert f is not None
    atomic_write_json(
        safe_join(out, f"{res.name}.json"),
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


def write_ar_an_json(out: Path, res: MethodResult, eval_set: EvalSet, n_missing: int = 0) -> None:
    """``out/<method>.proposals.json``: AR@AN of a method's proposals (``n_missing`` videos
    without proposals)."""
    a = res.aran
    assert a is not None
    atomic_write_json(
        safe_join(out, f"{res.name}.proposals.json"),
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
    atomic_save_figure(out / "ar_an.png", fig, dpi=120)

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
    atomic_save_figure(out / "score_vs_time.png", fig, dpi=120)
