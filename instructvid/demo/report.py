"""The demo's report: ``report.md``, ``report.html`` and the console tables.

Every number comes from the stage results of :mod:`instructvid.demo.run` (recall and frame AP
as fractions, printed as percentages; times in seconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructvid.demo.config import (
    DEMO_ACTIONNESS_TRAIN,
    DEMO_ALIGN_METHOD,
    DEMO_DIM,
    DEMO_GROUNDING,
    DEMO_GROUNDING_SHOWN_CM,
    DEMO_GROUNDING_TRAIN,
    DEMO_N_TRAIN,
    DEMO_PCK_TOLERANCES_CM,
    DEMO_SCENE,
    DEMO_SIZE,
    DEMO_SPLITS,
    THESIS_FRAME_AP_CROSSTASK,
)
from instructvid.demo.stages import StageTiming
from instructvid.io.atomic import atomic_write_text


@dataclass(frozen=True)
class DemoTable:
    """A result table for the console: title, column names and rows of formatted cells."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * float(x):.1f}"


def _step_rows(bench: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(method, recall %, ± std, α per split, paper %) per method, ``+actionness`` rows too."""
    from instructvid.report.tables import TABLE_4_2_COMPONENT
    from instructvid.steps.paper import paper_recall

    rows = []
    for method, s in bench["summaries"].items():
        alpha = s.get("alpha")
        if "base_method" in s:
            paper = TABLE_4_2_COMPONENT[1] / 100 if s["base_method"] == "component" else None
        else:
            paper = paper_recall(method)
        rows.append(
            (
                method,
                _pct(s["mean"]),
                _pct(s["std"]),
                ", ".join(f"{a:g}" for a in alpha["per_split"]) if alpha else "",
                _pct(paper),
            )
        )
    return rows


def _actionness_rows(axr: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """(method, frame AP %, per-video %, AR@10 %, AR@100 %, AUC %, thesis CrossTask %)."""
    rows = []
    for name, m in axr["methods"].items():
        thesis = THESIS_FRAME_AP_CROSSTASK.get(name)
        rows.append(
            (
                name,
                _pct(m["frame_ap"]),
                _pct(m["per_video"]),
                _pct(m["ar10"]),
                _pct(m["ar100"]),
                _pct(m["auc"]),
                f"{thesis:.1f}" if thesis is not None else "–",
            )
        )
    return rows


def _scene_rows(scene: Mapping[str, Any]) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Per-video rows (video, frames, registered, models, 3D points) and PCK rows (method, %…)."""
    videos = [
        (name, str(v["frames"]), str(v["registered"]), str(v["models"]), f"{v['points']:,}")
        for name, v in scene["videos"].items()
    ]
    pck = scene["pck"]
    methods = (("alignment graph", "graph"), ("direct edge only", "direct"))
    rows = [(label, *(_pct(x) for x in pck[key])) for label, key in methods]
    return videos, rows


def _graph_line(scene: Mapping[str, Any]) -> str:
    g = scene["graph"]
    edges = ", ".join(f"{e['src']}–{e['dst']} ({e['inliers']} inliers)" for e in g["edges"])
    return (
        f"{len(g['edges'])} edges between {len(g['nodes'])} models ({edges or 'none'}); "
        f"{len(g['components'])} connected component(s); reference {g['reference']}"
    )


def _md_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _timing_rows(
    timings: Sequence[StageTiming], wall: float | None = None, cpu: float | None = None
) -> list[tuple[str, ...]]:
    rows = [
        (
            t.label,
            f"{t.wall_s:.1f}",
            f"{t.cpu_s:.1f}",
            "reused from an earlier run" if t.reused else "computed",
        )
        for t in timings
    ]
    rows.append(
        (
            "sum of the stages",
            f"{sum(t.wall_s for t in timings):.1f}",
            f"{sum(t.cpu_s for t in timings):.1f}",
            "",
        )
    )
    if wall is not None and cpu is not None:
        rows.append(("this run (from the start of run_demo)", f"{wall:.1f}", f"{cpu:.1f}", ""))
    return rows


TIMING_COLUMNS = ("stage", "wall s", "CPU s", "")
STEP_COLUMNS = ("method", "recall %", "± std", "α per split", "paper %")
ACTIONNESS_COLUMNS = (
    "method",
    "frame AP %",
    "per video %",
    "AR@10 %",
    "AR@100 %",
    "AR@AN AUC %",
    "thesis frame AP % (CrossTask)",
)
SCENE_COLUMNS = ("video", "frames", "registered", "models", "3D points")


def _pck_columns() -> tuple[str, ...]:
    return ("PCK %", *(f"@{t:g} cm" for t in DEMO_PCK_TOLERANCES_CM))


GROUNDING_COLUMNS = (
    "PCK %",
    *(f"@{t:g} cm" for t in DEMO_GROUNDING_SHOWN_CM),
    "class average @30 cm",
)
QUERY_COLUMNS = ("scene", "query", "object", "top voxel centre", "score", "distance cm", "≤ 30 cm")


def _grounding_rows(g: Mapping[str, Any]) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """PCK rows (this run, chance, thesis average at 30 cm) and one row per grounded query."""
    from instructvid.scene.ground_eval import THESIS_AVERAGE

    at = g["at"]
    blanks = ("–",) * len(DEMO_GROUNDING_SHOWN_CM)
    shown = DEMO_GROUNDING_SHOWN_CM
    pck = [
        (g["method"], *(_pct(at[str(t)][0]) for t in shown), _pct(g["class_average"])),
        (
            "chance (exact, this run)",
            *(_pct(at[str(t)][1]) for t in shown),
            _pct(g["chance_class_average"]),
        ),
        ("thesis Table 5.1, chance", *blanks, _pct(THESIS_AVERAGE[0])),
        ("thesis Table 5.1, ours", *blanks, _pct(THESIS_AVERAGE[1])),
    ]
    queries = [
        (
            q["scene"],
            f"“{q['query']}”",
            q["object"].replace("_", " "),
            "(" + ", ".join(f"{x:.2f}" for x in q["centre"]) + ")",
            f"{q['score']:.2f}",
            f"{q['error_cm']:.1f}",
            "yes" if q["error_cm"] <= g["at_cm"] else "no",
        )
        for q in g["grounded"]
    ]
    return pck, queries


def _grounding_md(g: Mapping[str, Any], seed: int) -> str:
    pck, queries = _grounding_rows(g)
    w = DEMO_GROUNDING
    return (
        f"- world: `synth grounding` seed {seed + 1}, {w['scenes']} scenes x {w['videos']} "
        f"narrated videos of {w['width']} x {w['height']} at {w['fps']:g} fps (oracle "
        f"reconstructions); {g['pairs']} training pairs (`center` points); voxels kept per "
        f"scene: {', '.join(f'{s} {n}' for s, n in g['n_voxels'].items())}\n"
        f"- model: `{g['method']}`, {DEMO_GROUNDING_TRAIN['epochs']} epochs, batch "
        f"{DEMO_GROUNDING_TRAIN['batch_size']}; evaluated on the world's {g['queries']} "
        "held-out query wordings; PCK = share of queries whose top voxel centre lies within "
        "τ of the object\n\n"
        + _md_table(GROUNDING_COLUMNS, pck)
        + "\nPer object at 30 cm, beside Table 5.1 (grounding/eval/table.md):\n\n"
        + g["table_md"].strip()
        + "\n\nGrounded queries (top voxel; centre in the scene's reference frame, score = "
        "softmax probability, distance to the named object):\n\n"
        + _md_table(QUERY_COLUMNS, queries)
        + "\n![PCK against the threshold (cf. Fig. 5.7)](grounding/eval/pck.png)\n"
    )


def _pages_md(pages: Sequence[Sequence[str]]) -> str:
    from instructvid.report.runs.page import package_versions, table

    links = "".join(f"- [{text}]({path})\n" for path, text in pages)
    return (
        "The `instructvid report` page of each output folder (self-contained HTML):\n\n"
        + links
        + "\nPackage versions:\n\n"
        + table(("package", "version"), package_versions())
        + "\n"
    )


def write_report(
    out: Path,
    seed: int,
    world: Mapping[str, Any],
    axr: Mapping[str, Any],
    bench: Mapping[str, Any],
    scene: Mapping[str, Any],
    timings: Sequence[StageTiming],
    elapsed: tuple[float, float],
    grounding: Mapping[str, Any],
    pages: Sequence[Sequence[str]] = (),
) -> tuple[Path, Path]:
    """``out/report.md`` and ``out/report.html`` (same sections; images embedded in the HTML).

    ``elapsed``: (wall, CPU) seconds of this run so far.
    """
    from instructvid.report.html import write_report as write_html

    train = axr["train"]
    cfg = DEMO_ACTIONNESS_TRAIN
    scene_setup = (
        f"- 3D: {DEMO_SCENE['n_videos']} rendered videos x {DEMO_SCENE['n_frames']} frames of "
        f"{DEMO_SCENE['width']} x {DEMO_SCENE['height']} (scene seed {seed + 1}), SIFT + pycolmap "
        f"per video, `{DEMO_ALIGN_METHOD}` alignment graph, keypoints of video_00 transferred "
        "to the others\n"
        if "skipped" not in scene
        else f"- 3D: left out — {scene['skipped']}\n"
    )
    setup = (
        f"- world: `{DEMO_SIZE}` with {DEMO_DIM}-d features, seed {seed}: {world['primary']} "
        f"primary and {world['related']} related tasks, {world['videos']} videos; check: "
        f"{world['errors']} errors, {world['warnings']} warnings\n"
        f"- step localization: {DEMO_SPLITS} splits, {DEMO_N_TRAIN} training videos per primary "
        "task, validation videos excluded from training; `+actionness` rows add the learned "
        "actionness by eq. 4.4 with α chosen per split on the validation videos\n"
        f"- actionness: order verification trained on the {train['n_videos']} related-task "
        f"videos only (never a primary-task video): range {cfg['range_s']} s, M = "
        f"{cfg['n_clips']} clips, trim {cfg['trim']}, {cfg['epochs']} epochs of "
        f"{cfg['sequences_per_video']} sequences per video, lr {cfg['lr']:g}; last epoch's "
        f"order accuracy {100 * train['accuracy']:.1f} %; scored per second on every "
        f"primary-task video; evaluated on the {axr['n_videos']} test videos of the seeded "
        "random split (as `actionness evaluate --crosstask`)\n"
        + scene_setup
        + "- the full experiments (5–20 splits, 256-d features, larger scenes) are in "
        "docs/steps.md, docs/actionness.md and docs/scene.md; the synthetic world is easier "
        "than CrossTask for the supervised topline\n"
    )
    steps_md = (
        bench["results_md"]
        + "\nWith actionness (eq. 4.4, Table 4.2):\n\n"
        + bench["actionness_md"]
        + "\n![recall per method](benchmark/methods.png)\n"
        + "\n![recall per task](benchmark/recall.png)\n"
    )
    actionness_md = (
        _md_table(ACTIONNESS_COLUMNS, _actionness_rows(axr))
        + f"\nFrame AP on 0.2 s segments, pooled over the {axr['n_videos']} test videos; AR@AN "
        "of TAG proposals (tIoU 0.5:0.95), AUC as a fraction of AN = 100. Details: "
        "actionness/eval/results.md.\n"
        + "\n![actionness against time](actionness/eval/score_vs_time.png)\n"
    )
    if "skipped" in scene:
        scene_md = f"Left out: {scene['skipped']}\n"
    else:
        videos, pck = _scene_rows(scene)
        overlay = scene.get("overlay")
        scene_md = (
            _md_table(SCENE_COLUMNS, videos)
            + f"\n- graph: {_graph_line(scene)}\n"
            + f"- PCK over {scene['pck']['n_pairs']} (source, target) pairs, against eq. 5.3's "
            "ground truth (metric scale from the scene's reference keypoints):\n\n"
            + _md_table(_pck_columns(), pck)
            + (
                f"\n![transferred keypoints (green) and ground truth (red)]({overlay})\n"
                if overlay
                else ""
            )
        )
    sections = [
        ("Setup", setup),
        ("Step localization (Table 3.3 layout, recall %)", steps_md),
        ("Actionness (Table 4.1 layout, primary-task test videos)", actionness_md),
        ("3D: per-video reconstruction, alignment graph, keypoint transfer", scene_md),
        (
            "3D: grounding narration into voxels (Table 5.1 and Fig. 5.7 layout)",
            _grounding_md(grounding, seed),
        ),
        ("Dataset statistics (Table 3.2 layout)", world["stats_md"]),
        (
            "Timings (seconds; CPU = this process, its threads and child processes)",
            _md_table(TIMING_COLUMNS, _timing_rows(timings, *elapsed)),
        ),
        ("Report pages of the output folders", _pages_md(pages)),
    ]
    markdown = "# instructvid demo\n\n" + "".join(f"## {h}\n\n{m}\n" for h, m in sections)
    md_path = atomic_write_text(out / "report.md", markdown)
    html_path = write_html(out / "report.html", "instructvid demo", sections, base=out)
    return html_path, md_path


def console_tables(
    world: Mapping[str, Any],
    axr: Mapping[str, Any],
    bench: Mapping[str, Any],
    scene: Mapping[str, Any],
    timings: Sequence[StageTiming],
    wall: float,
    cpu: float,
    grounding: Mapping[str, Any],
) -> list[DemoTable]:
    """The console tables: step localization (with ``+actionness`` rows), actionness, 3D
    (per video and PCK, or why it was left out), grounding (PCK and queries) and the timings
    (``wall``, ``cpu``: this run)."""
    tables = [
        DemoTable(
            f"step localization recall (%) — {DEMO_SPLITS} splits, {DEMO_SIZE} world",
            STEP_COLUMNS,
            _step_rows(bench),
        ),
        DemoTable(
            f"actionness — {axr['n_videos']} primary-task test videos "
            f"(model trained on {axr['train']['n_videos']} related-task videos)",
            ACTIONNESS_COLUMNS,
            _actionness_rows(axr),
        ),
    ]
    if "skipped" in scene:
        tables.append(DemoTable("3D", ("",), [], note=f"3D left out: {scene['skipped']}"))
    else:
        videos, pck = _scene_rows(scene)
        tables.append(DemoTable("3D — per-video reconstruction", SCENE_COLUMNS, videos))
        tables.append(
            DemoTable(
                f"3D — keypoint transfer over {scene['pck']['n_pairs']} video pairs",
                _pck_columns(),
                pck,
                note=f"graph: {_graph_line(scene)}",
            )
        )
    pck, queries = _grounding_rows(grounding)
    tables.append(
        DemoTable(
            f"3D grounding — PCK over {grounding['queries']} held-out queries",
            GROUNDING_COLUMNS,
            pck,
            note=f"{grounding['pairs']} training pairs; plot and per-object table in the report",
        )
    )
    tables.append(DemoTable("3D grounding — grounded queries", QUERY_COLUMNS, queries))
    tables.append(DemoTable("timings", TIMING_COLUMNS, _timing_rows(timings, wall, cpu)))
    return tables
