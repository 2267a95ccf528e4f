"""Evaluation metrics: pure functions, documented against the papers."""

from instructvid.metrics.ap import average_precision
from instructvid.metrics.recall import (
    RecallResult,
    crosstask_recall,
    mean_and_std_over_splits,
    video_recall_counts,
)
from instructvid.metrics.step_map import MapResult, step_map

__all__ = [
    "MapResult",
    "RecallResult",
    "average_precision",
    "crosstask_recall",
    "mean_and_std_over_splits",
    "step_map",
    "video_recall_counts",
]
