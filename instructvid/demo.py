"""The demo: a synthetic world through every implemented pipeline, ending in a report.

Pipeline: generate a ``medium`` synthetic CrossTask world with 64-d features (the medium
world's tasks and videos; 64 instead of 256 dimensions keeps the demo under a minute) →
validate it (``steps check``) → dataset statistics beside Table 3.2 → the split protocol
(30 training videos per primary task, as in the thesis) for uniform, random, the task-specific
and component models and the supervised topline → ``report.html`` and ``report.md`` under
``out``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from instructvid.io.atomic import atomic_write_text
from instructvid.io.crosstask import CrossTaskData
from instructvid.io.crosstask_check import check_dataset
from instructvid.report.html import write_report
from instructvid.report.plots import recall_bar_plot
from instructvid.report.tables import results_markdown, stats_markdown
from instructvid.steps.paper import paper_recall
from instructvid.steps.protocol import run_benchmark
from instructvid.steps.stats import dataset_statistics
from instructvid.synth.crosstask import generate_crosstask

#: The demo's settings: the world, and the protocol scaled to it.
DEMO_SIZE = "medium"
DEMO_DIM = 64
DEMO_SPLITS = 3
DEMO_N_TRAIN = 30
DEMO_METHODS = ("uniform", "random", "task", "component", "supervised")


@dataclass(frozen=True)
class DemoResult:
    """Where the report is, and the console table rows (method, recall %, ± std, paper %)."""

    report: Path
    rows: list[tuple[str, str, str, str]]


def run_demo(out: str | Path, *, seed: int = 0, console: Console | None = None) -> DemoResult:
    """Run the demo into ``out`` (resumable: finished parts are reused) and return the report."""
    from instructvid.cli._progress import progress_bar

    console = console or Console(stderr=True)
    out = Path(out)
    data_dir = out / "data"
    timings: dict[str, float] = {}

    start = time.perf_counter()
    with progress_bar(f"1/4 synthetic world ({DEMO_SIZE})") as update:
        generate_crosstask(data_dir, size=DEMO_SIZE, seed=seed, dim=DEMO_DIM, progress=update)
    timings["world"] = time.perf_counter() - start

    start = time.perf_counter()
    with progress_bar("2/4 checking the dataset") as update:
        problems = check_dataset(data_dir, progress=update)
    timings["check"] = time.perf_counter() - start
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise RuntimeError(
            "the synthetic world failed its own check:\n" + "\n".join(map(str, errors))
        )

    data = CrossTaskData.open(data_dir)
    start = time.perf_counter()
    with progress_bar("3/4 dataset statistics") as update:
        stats = dataset_statistics(data, progress=update)
    timings["stats"] = time.perf_counter() - start

    start = time.perf_counter()
    n_train = DEMO_N_TRAIN
    with progress_bar("4/4 split protocol") as update:
        summaries = run_benchmark(
            data,
            out / "benchmark",
            methods=DEMO_METHODS,
            n_splits=DEMO_SPLITS,
            n_train=n_train,
            seed=seed,
            progress=lambda m, done, total: update(done, total),
        )
    timings["benchmark"] = time.perf_counter() - start

    titles = {t: task.title for t, task in data.tasks.items()}
    results_md = results_markdown(summaries, titles)
    plot = recall_bar_plot(summaries, titles, out / "recall.png")
    stats_md = stats_markdown(stats)
    setup_md = (
        f"- world: `{DEMO_SIZE}` with {DEMO_DIM}-d features, seed {seed}: {len(data.primary)} primary and "
        f"{len(data.related)} related tasks, {sum(len(v) for v in data.videos.values())} videos\n"
        f"- check: {len(errors)} errors, {len(problems) - len(errors)} warnings\n"
        f"- protocol: {DEMO_SPLITS} splits, {n_train} training videos per primary task, "
        f"validation videos excluded\n"
        "- the full tables (every method of Tables 3.3–3.4, 5 splits, 256-d features) are in "
        "docs/steps.md; the synthetic world is easier than CrossTask for the supervised topline\n"
        + "".join(f"- time {name}: {sec:.1f} s\n" for name, sec in timings.items())
    )
    sections = [
        ("Setup", setup_md),
        ("Step localization (Table 3.3 layout, recall %)", results_md),
        ("Dataset statistics (Table 3.2 layout)", stats_md),
    ]
    markdown = "# instructvid demo\n\n" + "".join(f"## {h}\n\n{m}\n" for h, m in sections)
    atomic_write_text(out / "report.md", markdown)
    report = write_report(out / "report.html", "instructvid demo", sections, images=[plot])

    rows = []
    for method, summary in summaries.items():
        paper = paper_recall(method)
        rows.append(
            (
                method,
                f"{100 * float(summary['mean']):.1f}",  # type: ignore[arg-type]
                f"{100 * float(summary['std']):.1f}",  # type: ignore[arg-type]
                f"{100 * paper:.1f}" if paper is not None else "–",
            )
        )
    return DemoResult(report=report, rows=rows)
