"""Refuse a split that leaves a primary task with nothing to train on or nothing to test.

The protocol (:func:`~instructvid.steps.benchmark.protocol.make_splits`) draws ``n_train``
training videos per primary task from the videos outside the validation set; the annotated rest
is the test set. On a small dataset (or with a large ``--n-train``) a task can be left with no
test video: its recall would be an empty mean (NaN), which a summary, a table or a plot then
shows as a result. :func:`check_splits` turns that into one error before any work is done,
naming every such task, its counts and the largest ``n_train`` that leaves every task a test
video whatever the split's seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from instructvid.io.crosstask import CrossTaskData

if TYPE_CHECKING:
    from instructvid.steps.benchmark.types import Split

__all__ = ["EmptySplitError", "check_splits", "largest_n_train"]


class EmptySplitError(ValueError):
    """A split leaves a primary task without training or without test videos."""


def _counts(data: CrossTaskData, task_id: str) -> tuple[int, int]:
    """(videos outside the validation set, of which annotated) of a primary task."""
    pool = data.non_val_videos(task_id)
    return len(pool), sum(1 for v in pool if data.has_annotation(task_id, v))


def largest_n_train(data: CrossTaskData) -> int:
    """The largest ``n_train`` that leaves every primary task at least one annotated test video
    in every split (each task's annotated videos outside the validation set, minus one; -1
    when a task has none)."""
    return min((_counts(data, t)[1] - 1 for t in data.primary), default=-1)


def check_splits(data: CrossTaskData, splits: Sequence[Split], n_train: int) -> None:
    """Raise :class:`EmptySplitError` when a split leaves a primary task without a training
    video or without an annotated test video.

    The message names each such task (title and id), its counts (videos outside the
    validation set, annotated ones, how many the split keeps for training) and the largest
    ``--n-train`` that works (:func:`largest_n_train`).
    """
    problems: list[str] = []
    for task_id in data.primary:
        untested = [s.index for s in splits if not s.test.get(task_id)]
        untrained = [s.index for s in splits if not s.train.get(task_id)]
        if not untested and not (untrained and n_train > 0):
            continue
        n_pool, n_annotated = _counts(data, task_id)
        title = data.task(task_id).title
        what = "no test video" if untested else "no training video"
        where = untested or untrained
        in_splits = (
            "" if len(where) == len(splits) else f" in split(s) {', '.join(map(str, where))}"
        )
        problems.append(
            f"task {title!r} ({task_id}): {n_pool} video(s) outside the validation set, "
            f"{n_annotated} annotated; --n-train {n_train} leaves {what}{in_splits}"
        )
    if not problems:
        return
    best = largest_n_train(data)
    hint = (
        f"the largest --n-train that leaves every task a test video is {best}"
        if best >= 1
        else "a primary task has no annotated video outside the validation set: "
        "nothing to evaluate on this dataset"
    )
    raise EmptySplitError(
        f"{len(problems)} primary task(s) cannot be evaluated:\n  "
        + "\n  ".join(problems)
        + f"\n{hint}"
    )
