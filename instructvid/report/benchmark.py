"""The benchmark's and the transfer curve's reports: ``results.md`` and their figures.

One place writes them for the command line (``steps benchmark``, ``steps transfer``), the demo
and the library alike:

* :func:`benchmark_markdown` / :func:`write_benchmark_report`: ``results.md`` (Table 3.3 layout
  with the paper's rows, Table 3.4 when its six methods ran, the rows with actionness when
  there are some), ``recall.png`` (per task) and ``methods.png`` (per method), from the
  summaries :func:`~instructvid.steps.benchmark.protocol.run_benchmark` returns;
* :func:`write_transfer_report`: ``transfer.png`` from the result of
  :func:`~instructvid.steps.benchmark.transfer.transfer_curve`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from instructvid.io.atomic import atomic_write_text
from instructvid.report.plots import method_summary_plot, recall_bar_plot, transfer_plot
from instructvid.report.sharing import write_sharing
from instructvid.report.tables import actionness_markdown, results_markdown, sharing_markdown
from instructvid.types import PathLike

__all__ = [
    "BenchmarkReport",
    "benchmark_markdown",
    "write_benchmark_report",
    "write_transfer_report",
]

Summaries = Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class BenchmarkReport:
    """What :func:`write_benchmark_report` wrote.

    Attributes:
        results: ``results.md``; recall: ``recall.png``; methods: ``methods.png``.
        markdown: the Table 3.3 part of ``results.md``; actionness: its actionness table
            (``None`` when no method has an actionness row).
    """

    results: Path
    recall: Path
    methods: Path
    markdown: str
    actionness: str | None


def benchmark_markdown(
    summaries: Summaries,
    titles: Mapping[str, str],
    *,
    sharing: bool = True,
    actionness_section: bool = False,
    gain: str | None = None,
) -> str:
    """The text of ``results.md``.

    Args:
        summaries: ``{method: summary}`` as returned by ``run_benchmark``.
        titles: ``{task_id: title}``.
        sharing: add the Table 3.4 layout when its six methods are in ``summaries`` (the
            command line asks for it when the related tasks were used).
        actionness_section: always add the "With actionness" heading (empty table when no
            method has an actionness row), as the demo's report does; otherwise only when
            there is such a row.
        gain: the gain-from-sharing section (Table 3.3's last row, Fig. 3.6), when computed.
    """
    markdown = results_markdown(summaries, titles)
    table = sharing_markdown(summaries) if sharing else None
    if table is not None:
        markdown += "\nSharing (Table 3.4 layout; paper in parentheses):\n\n" + table
    if gain is not None:
        markdown += "\nGain from sharing (Table 3.3's last row, Fig. 3.6):\n\n" + gain
    with_actionness = actionness_markdown(summaries)
    if with_actionness is not None or actionness_section:
        markdown += "\nWith actionness (eq. 4.4, Table 4.2):\n\n" + (with_actionness or "")
    return markdown


def write_benchmark_report(
    out: PathLike,
    summaries: Summaries,
    titles: Mapping[str, str],
    *,
    sharing: bool = True,
    actionness_section: bool = False,
    steps: Mapping[str, Sequence[str]] | None = None,
    stem: bool = True,
) -> BenchmarkReport:
    """Write ``OUT/results.md``, ``OUT/recall.png`` and ``OUT/methods.png`` (atomically).

    With ``steps`` (``{task_id: step texts}`` of every task), also the analysis of sharing
    when ``component`` and ``task`` ran (:func:`~instructvid.report.sharing.write_sharing`:
    ``sharing.json``, ``components.csv``, ``components.png``, and its section of
    ``results.md``). Other arguments as :func:`benchmark_markdown`.
    """
    out = Path(out)
    gain = write_sharing(summaries, steps, titles, out, stem=stem) if steps is not None else None
    results = atomic_write_text(
        out / "results.md",
        benchmark_markdown(
            summaries,
            titles,
            sharing=sharing,
            actionness_section=actionness_section,
            gain=gain,
        ),
    )
    recall = recall_bar_plot(summaries, titles, out / "recall.png")
    methods = method_summary_plot(summaries, out / "methods.png")
    return BenchmarkReport(
        results=Path(results),
        recall=recall,
        methods=methods,
        markdown=results_markdown(summaries, titles),
        actionness=actionness_markdown(summaries),
    )


def write_transfer_report(out: PathLike, result: Mapping[str, object]) -> Path:
    """Write ``OUT/transfer.png`` (thesis Fig. 3.8) from a transfer curve's result."""
    return transfer_plot(result, Path(out) / "transfer.png")
