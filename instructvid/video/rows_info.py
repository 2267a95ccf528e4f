"""What reading a whole video found, beside its rows: the ``info`` of a whole-video extractor's
``video_rows(source, fps) -> (values, info)`` (:class:`instructvid.video.features.VideoExtractor`)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RowsInfo"]


@dataclass(frozen=True)
class RowsInfo:
    """The video's length, whether it was cut short and why, and extra manifest fields."""

    duration: float  # seconds
    truncated: bool = False
    warning: str | None = None
    flags: dict = field(default_factory=dict)  # extra fields of the video's manifest entry
