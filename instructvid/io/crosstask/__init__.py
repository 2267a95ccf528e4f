"""The CrossTask release layout: task cards, video lists, step CSVs and per-video features.

This package is the only place that knows these formats (METHOD §1.1), one module per kind of
file: :mod:`~instructvid.io.crosstask.tasks` (task cards), :mod:`~instructvid.io.crosstask.videos`
(video lists), :mod:`~instructvid.io.crosstask.segments` (annotations and constraints),
:mod:`~instructvid.io.crosstask.features` (features) and :mod:`~instructvid.io.crosstask.dataset`
(the folder as a whole); import them from here. Layout of a ``DATA`` folder holding the three
official zips unpacked side by side::

    DATA/crosstask_release/tasks_primary.txt      task cards of the 18 annotated tasks
    DATA/crosstask_release/tasks_related.txt      task cards of the 65 related tasks
    DATA/crosstask_release/videos.csv             task_id,video_id,url (every video)
    DATA/crosstask_release/videos_val.csv         the fixed validation videos, same format
    DATA/crosstask_release/annotations/<task>_<vid>.csv     step,start,end (1-based; seconds)
    DATA/crosstask_features/<vid>.npy             float32 (T, D), one row per second
    DATA/crosstask_constraints/<task>_<vid>.csv   narration intervals, same format as annotations

Units: times in step CSVs are **seconds** (floats); feature row ``t`` is second ``t``. A segment
``[start, end]`` covers rows ``floor(start) .. ceil(end) - 1`` (the authors' ``read_assignment``).

Bad input raises :class:`CrossTaskFormatError`, which names the file, the line and what was
expected. Features are opened memory-mapped and never loaded whole.

Task and video ids are untrusted: they are checked where they are read
(:func:`instructvid.io.ids.check_id`) and every path built from them goes through
:func:`instructvid.io.ids.safe_join`, which refuses one that leaves its folder.
"""

from instructvid.io.crosstask.dataset import CrossTaskData, CrossTaskPaths
from instructvid.io.crosstask.errors import CrossTaskFormatError
from instructvid.io.crosstask.features import check_features, open_features, write_features
from instructvid.io.crosstask.segments import (
    Segment,
    SegmentClippedWarning,
    parse_segment_line,
    read_segments,
    segments_to_matrix,
    write_segments,
)
from instructvid.io.crosstask.tasks import Task, read_task_cards, write_task_cards
from instructvid.io.crosstask.videos import VideoEntry, read_video_list, write_video_list

__all__ = [
    "CrossTaskData",
    "CrossTaskFormatError",
    "CrossTaskPaths",
    "Segment",
    "SegmentClippedWarning",
    "Task",
    "VideoEntry",
    "check_features",
    "open_features",
    "parse_segment_line",
    "read_segments",
    "read_task_cards",
    "read_video_list",
    "segments_to_matrix",
    "write_features",
    "write_segments",
    "write_task_cards",
    "write_video_list",
]
