"""Ablations of the range ``d`` and the number of clips ``M`` (thesis Fig. 4.4).

One model is trained per value of ``d`` (with ``M`` of the base config) and per value of ``M``
(with ``d`` of the base config), all on the same training videos and cumulative-sum store;
each is scored by frame AP on the evaluation videos. Every run lives in ``OUT/runs/d<d>_M<M>``
and keeps its own checkpoint and ``eval.json``, so an interrupted sweep resumes where it
stopped. Outputs: ``OUT/sweep.json``, ``OUT/sweep.md``, ``OUT/sweep.png`` (AP vs ``d``, AP vs ``M``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib

from instructvid.types import PathLike, ProgressCallback

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from instructvid.actionness.config import TrainConfig
from instructvid.actionness.eval.evaluate import evaluate_methods
from instructvid.actionness.eval.methods import model_source
from instructvid.actionness.eval.sets import EvalSet
from instructvid.actionness.train import train_actionness
from instructvid.io.atomic import atomic_save_figure, atomic_write_json, atomic_write_text

__all__ = ["run_sweep"]


def _runs(base: TrainConfig, ranges: Sequence[int], clips: Sequence[int]) -> list[tuple[int, int]]:
    pairs = [(int(d), base.n_clips) for d in ranges] + [(base.range_s, int(m)) for m in clips]
    seen: list[tuple[int, int]] = []
    for p in pairs:
        if p not in seen:
            seen.append(p)
    return seen


def run_sweep(
    features: Mapping[str, PathLike],
    eval_set: EvalSet,
    out: PathLike,
    *,
    ranges: Sequence[int] = (10, 30, 60, 120),
    clips: Sequence[int] = (3, 4, 5, 6, 7),
    base: TrainConfig | None = None,
    clip_seconds: int = 1,
    device: str = "auto",
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train and evaluate every ``(d, M)`` of the sweep; returns the summary written to JSON.

    Args:
        features: training videos ``{video_id: feature path}``.
        eval_set: evaluation videos (never trained on: checked by :func:`train_actionness`).
        out: output folder.
        ranges: values of ``d`` (seconds).
        clips: values of ``M``.
        base: the other hyper-parameters (its ``range_s`` / ``n_clips`` are the fixed values).
        clip_seconds: clip length used to score each second at evaluation.
        device: torch device.
        progress: ``progress(done, total)`` over runs.
    """
    out = Path(out)
    base = base or TrainConfig()
    pairs = _runs(base, ranges, clips)
    rows = []
    for k, (d, m) in enumerate(pairs):
        run = out / "runs" / f"d{d}_M{m}"
        cached = run / "eval.json"
        if cached.is_file():
            rows.append(json.loads(cached.read_text()))
        else:
            cfg = replace(base, range_s=d, n_clips=m)
            result = train_actionness(
                features,
                run,
                config=cfg,
                eval_videos=eval_set.videos.keys(),
                store_dir=out / "store",
                device=device,
            )
            res = evaluate_methods(
                eval_set,
                run / "eval",
                sources=[
                    model_source(
                        result.model.cpu().eval(),
                        eval_set,
                        name=f"d{d}_M{m}",
                        clip_seconds=clip_seconds,
                    )
                ],
                proposals=False,
            )[f"d{d}_M{m}"]
            assert res.frame is not None
            row = {
                "range_s": d,
                "n_clips": m,
                "frame_ap": res.frame.pooled,
                "per_video_mean": res.frame.per_video_mean,
                "final_loss": result.history[-1]["loss"],
                "final_accuracy": result.history[-1]["accuracy"],
            }
            atomic_write_json(cached, row)
            rows.append(row)
        if progress is not None:
            progress(k + 1, len(pairs))
    summary = {
        "metric": "frame_ap",
        "base": {"range_s": base.range_s, "n_clips": base.n_clips},
        "dataset": eval_set.source,
        "runs": rows,
    }
    atomic_write_json(out / "sweep.json", summary)
    _write_markdown(out / "sweep.md", rows, base)
    _plot(out / "sweep.png", rows, base)
    return summary


def _write_markdown(path: Path, rows: list[dict[str, Any]], base: TrainConfig) -> None:
    lines = [
        "# Actionness ablations: range d and number of clips M (cf. thesis Fig. 4.4)",
        "",
        "| range d (s) | M | frame AP % (pooled) | frame AP % (per video) | final order accuracy |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: (r["n_clips"] != base.n_clips, r["range_s"], r["n_clips"])):
        lines.append(
            f"| {r['range_s']} | {r['n_clips']} | {100 * r['frame_ap']:.1f} | "
            f"{100 * r['per_video_mean']:.1f} | {r['final_accuracy']:.3f} |"
        )
    atomic_write_text(path, "\n".join(lines) + "\n")


def _plot(path: Path, rows: list[dict[str, Any]], base: TrainConfig) -> None:
    by_d = sorted((r for r in rows if r["n_clips"] == base.n_clips), key=lambda r: r["range_s"])
    by_m = sorted((r for r in rows if r["range_s"] == base.range_s), key=lambda r: r["n_clips"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    a1.plot([r["range_s"] for r in by_d], [100 * r["frame_ap"] for r in by_d], "o-")
    a1.set_xscale("log")
    a1.set_xlabel("range d (seconds)")
    a1.set_ylabel("frame AP (%)")
    a1.set_title(f"long vs short range (M = {base.n_clips})")
    a2.plot([r["n_clips"] for r in by_m], [100 * r["frame_ap"] for r in by_m], "o-")
    a2.set_xlabel("clips per sequence M")
    a2.set_title(f"number of clips (d = {base.range_s} s)")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_save_figure(path, fig, dpi=120)
