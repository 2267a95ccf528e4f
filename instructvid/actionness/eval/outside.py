"""Proposals of videos outside the evaluated subset.

The official ActivityNet proposal evaluator (and :func:`~instructvid.metrics.actionness.
average_recall_vs_an`, checked against it) divides the number of proposals in the file by the
number of evaluated videos to set the average number per video: proposals of other videos (a
file that covers training and testing videos, evaluated on the testing ones) count towards that
average and lower AR@AN. That behaviour is kept; :func:`outside_note` says when it happens and
:func:`drop_outside` removes them first (``actionness evaluate --drop-outside``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from instructvid.io.proposals import VideoProposals

__all__ = ["drop_outside", "outside_counts", "outside_note"]


def outside_counts(
    proposals: Mapping[str, VideoProposals], evaluated: Iterable[str]
) -> tuple[int, int]:
    """(videos, proposals) of ``proposals`` whose video is not among ``evaluated``."""
    keep = set(evaluated)
    outside = [p for vid, p in proposals.items() if vid not in keep]
    return len(outside), sum(len(p.scores) for p in outside)


def drop_outside(
    proposals: Mapping[str, VideoProposals], evaluated: Iterable[str]
) -> dict[str, VideoProposals]:
    """``proposals`` restricted to the evaluated videos."""
    keep = set(evaluated)
    return {vid: p for vid, p in proposals.items() if vid in keep}


def outside_note(
    name: str, proposals: Mapping[str, VideoProposals], evaluated: Iterable[str], *, dropped: bool
) -> str | None:
    """A one-line note on the proposals of ``name`` outside the evaluated videos, or None."""
    evaluated = list(evaluated)
    n_videos, n_props = outside_counts(proposals, evaluated)
    if n_videos == 0:
        return None
    what = f"{name}: {n_props:,} proposals of {n_videos:,} videos outside the {len(evaluated):,} evaluated"
    if dropped:
        return f"{what} videos were dropped (--drop-outside)"
    return (
        f"{what} videos count towards the average number of proposals per video, as in the "
        "official ActivityNet evaluator, which lowers AR@AN; --drop-outside removes them first"
    )
