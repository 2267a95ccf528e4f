"""The dataset totals of ``steps stats`` (thesis §3.5), ours beside the paper's."""

from __future__ import annotations

from instructvid.steps.stats import DatasetStatistics

__all__ = ["order_note", "totals_lines"]


def totals_lines(stats: DatasetStatistics) -> list[str]:
    """One line per figure: ``name: ours (paper: …)``; empty without totals."""
    t = stats.totals
    if t is None:
        return []
    p = t.paper
    lines = [
        f"primary videos: {t.primary_videos:,}, {t.primary_hours:.1f} h "
        f"(paper: {p['primary_videos']:,.0f}, {p['primary_hours']:.0f} h)",
        f"related videos: {t.related_videos:,}, {t.related_hours:.1f} h "
        f"(paper: {p['related_videos']:,.0f}, {p['related_hours']:.0f} h)",
        f"annotated primary videos: {t.annotated_videos:,} (paper: {p['annotated_videos']:,.0f})",
        f"videos listed under more than one task: {t.shared_videos:,} of {t.distinct_videos:,} "
        f"= {100 * t.shared_fraction:.1f} % ({t.shared_primary_related:,} shared by a primary "
        f"and a related task) (paper: {100 * p['shared_fraction']:.1f} %)",
    ]
    if t.missing_features:
        lines.append(f"videos without a readable feature file (no hours): {t.missing_features:,}")
    return lines


def order_note(stats: DatasetStatistics) -> str:
    """Which order-consistency definition the table uses."""
    if stats.order_definition == "lis":
        return (
            "order consistency: longest in-order subsequence of the annotated steps / steps "
            "(the share an order-respecting parse can keep; --order pairwise for pairs in order)"
        )
    return (
        "order consistency: pairs of annotated steps in task order / pairs "
        "(--order lis for the longest in-order subsequence, the default)"
    )
