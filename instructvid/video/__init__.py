"""Video files in: streamed decoding (PyAV), frame sampling for SfM, per-second features and cues.

See ``docs/video.md``: :mod:`~instructvid.video.stream` (rows at a fixed rate),
:mod:`~instructvid.video.features` (extractors), :mod:`~instructvid.video.cues` (flow, hands),
:mod:`~instructvid.video.extract` (the stages over many videos)."""
