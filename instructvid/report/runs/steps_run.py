"""The report of a ``steps run`` RUN folder: step timelines with frames, recall per task beside
Table 3.3 (with ``annotations``), scores against normalised time, timings, problems, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from instructvid.report.runs import figures
from instructvid.report.runs.page import Page, pct, read_json, table

__all__ = ["steps_run_report"]


def steps_run_report(
    run: Path, *, annotations: Path | None = None, max_videos: int = 8, out: Path | None = None
) -> Path:
    """Write the report of a ``steps run`` RUN (``RUN/report.html`` unless ``out``)."""
    from instructvid.io.crosstask import read_segments, read_task_cards
    from instructvid.io.ids import safe_join
    from instructvid.io.scores import StepScoresDir
    from instructvid.steps.paper import TABLE_3_3, match_paper_title

    steps = read_json(run / "steps.json", {})
    config = read_json(run / "config.json", {})
    stages = read_json(run / "stages.json", {})
    problems = read_json(run / "problems.json", [])
    manifest = read_json(run / "features" / "manifest.json", {}).get("videos", {})
    tasks_file = run / "dataset" / "tasks_primary.txt"
    tasks = read_task_cards(tasks_file) if tasks_file.is_file() else {}
    page = Page(run, f"steps run — {run.name}")
    page.add(
        "Summary",
        f"{len(steps)} videos got step times; "
        f"{len({p['video'] for p in problems if p.get('skipped', True)})} skipped; "
        f"{len([p for p in problems if not p.get('skipped', True)])} warnings.",
    )

    if annotations is not None and steps:
        from instructvid.steps.pipeline.evaluate import evaluate_steps

        result = evaluate_steps(run, annotations)
        rows = []
        for task_id, value in result["recall"]["per_task"].items():
            title = result["titles"].get(task_id, task_id)
            paper = match_paper_title(title)
            index = None
            if paper is not None:
                from instructvid.steps.paper import PRIMARY_TASK_TITLES

                index = PRIMARY_TASK_TITLES.index(paper)
            rows.append(
                (
                    title,
                    pct(value),
                    pct(result["uniform"]["per_task"].get(task_id)),
                    pct(TABLE_3_3["component"][0][index]) if index is not None else "–",
                    pct(TABLE_3_3["uniform"][0][index]) if index is not None else "–",
                )
            )
        rows.append(
            (
                f"average ({result['recall']['n_videos']} videos)",
                pct(result["recall"]["mean"]),
                pct(result["uniform"]["mean"]),
                pct(TABLE_3_3["component"][1]),
                pct(TABLE_3_3["uniform"][1]),
            )
        )
        page.add(
            "Recall per task (%) beside Table 3.3",
            table(("task", "this run", "uniform", "Table 3.3 component", "Table 3.3 uniform"), rows)
            + "\nTable 3.3 is on the real CrossTask videos (3200-d features); shown for scale.",
        )

    scores = StepScoresDir(run / "scores") if (run / "scores").is_dir() else None
    lines = []
    for vid in list(steps)[:max_videos]:
        entry = steps[vid]
        task_id = entry["task"]
        task = tasks.get(task_id)
        if scores is None or task is None or not scores.has(task_id, vid):
            continue
        prob = np.exp(scores.read(task_id, vid))
        predicted = [int(s["start"]) for s in entry["steps"]]
        truth: list[tuple[int, float, float]] = []
        has_truth = False
        if annotations is not None:
            gt = safe_join(annotations, f"{task_id}_{vid}.csv")
            if gt.is_file():
                has_truth = True
                truth = [(s.step - 1, s.start, s.end) for s in read_segments(gt, task.n_steps)]
        source = manifest.get(vid, {}).get("source")
        frames = figures.frames_at(Path(source), predicted) if source else []
        fig = figures.step_timeline(
            prob,
            predicted,
            task.steps,
            truth=truth,
            has_truth=has_truth,
            frames=frames,
            title=f"{task.title} — video {vid}",
        )
        lines.append(page.figure(fig, f"timeline_{task_id}_{vid}", f"timeline of {vid}"))
    if lines:
        legend = "Blue: per-step probability per second; dots: predicted step times" + (
            " (green = inside the step's ground truth, red = outside); yellow: ground truth."
            if annotations
            else "."
        )
        page.add("Step timelines", legend + "\n\n" + "\n\n".join(lines))

    curves = _normalised_curves(run, steps, scores)
    if curves:
        fig = figures.normalised_time_curve(curves, ylabel="mean per-second score")
        page.add(
            "Scores against normalised time (Figs. 4.3, 4.6)",
            page.figure(fig, "normalised_time", "scores against normalised time"),
        )

    if stages:
        rows = [(name, f"{rec['seconds']:.1f}") for name, rec in stages.items()]
        page.add("Timings (s per stage)", table(("stage", "seconds"), rows))
    if problems:
        rows = [
            (
                p["video"],
                p["stage"],
                "skipped" if p.get("skipped", True) else "warning",
                p["reason"],
            )
            for p in problems
        ]
        page.add("Problems", table(("video", "stage", "kind", "reason"), rows))
    return page.write(out, config=config)


def _normalised_curves(run: Path, steps: dict[str, Any], scores) -> dict[str, list[np.ndarray]]:
    from instructvid.io.scores import ActionnessDir

    curves: dict[str, list[np.ndarray]] = {}
    if scores is not None:
        curves["max step probability"] = [
            np.exp(scores.read(e["task"], v)).max(axis=1)
            for v, e in steps.items()
            if scores.has(e["task"], v)
        ]
    if (run / "actionness").is_dir():
        act = ActionnessDir(run / "actionness")
        curves["actionness"] = [act.read(v) for v in steps if act.has(v)]
    return {k: v for k, v in curves.items() if v}
