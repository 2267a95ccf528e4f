"""Demo stage 13: per-second features from a few short generated videos (the video front end).

:func:`extract_videos` does the work, :func:`video_stage` runs it as a cached, timed stage into
``OUT/video`` and :func:`video_table` is its console table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from instructvid.demo.config import DEMO_VERSION
from instructvid.demo.report import DemoTable
from instructvid.demo.stages import Stages
from instructvid.types import PathLike, ProgressCallback

#: (stem, scene seed, seconds) of the generated videos; the extractor the demo uses (weight-free).
DEMO_VIDEOS = (("pour-milk", 1, 3.4), ("whisk", 2, 5.0), ("fry", 3, 2.2))
DEMO_EXTRACTOR = "tiny"


def extract_videos(root: PathLike, *, seed: int, progress: ProgressCallback) -> dict[str, Any]:
    """Generate the demo videos into ``root/videos`` and extract their features into
    ``root/features``: ``{"extractor", "dim", "rows": {stem: rows}, "problems": n}``."""
    from instructvid.video.extract import extract_features
    from instructvid.video.synthetic import scene_video

    root = Path(root)
    videos = root / "videos"
    for stem, scene, seconds in DEMO_VIDEOS:
        path = videos / f"{stem}.mp4"
        if not path.exists():
            scene_video(path, seed * 100 + scene, seconds)
    result = extract_features(
        [videos], root / "features", extractor=DEMO_EXTRACTOR, workers=1, progress=progress
    )
    return {
        "extractor": DEMO_EXTRACTOR,
        "dim": 128,
        "rows": {stem: entry["rows"] for stem, entry in sorted(result.videos.items())},
        "durations": {stem: entry["duration"] for stem, entry in sorted(result.videos.items())},
        "problems": len(result.problems),
    }


def video_stage(stages: Stages, out: Path, seed: int) -> dict[str, Any]:
    """Stage ``video_features`` into ``out/video``; returns what :func:`extract_videos` returns."""
    root = out / "video"
    settings = {
        "version": DEMO_VERSION,
        "seed": seed,
        "videos": DEMO_VIDEOS,
        "extractor": DEMO_EXTRACTOR,
    }
    return stages.run(
        "video_features",
        "video files → per-second features",
        settings,
        lambda update: extract_videos(root, seed=seed, progress=update),
        outputs=[root / "features" / "manifest.json"],
    )


def video_table(videos: Mapping[str, Any]) -> DemoTable:
    """The console table of :func:`extract_videos`'s result: rows (seconds) per video."""
    rows = [
        (stem, f"{videos['durations'][stem]:.1f}", str(n)) for stem, n in videos["rows"].items()
    ]
    note = (
        f"{videos['extractor']} features ({videos['dim']}-d), one row per second, in video/features"
    )
    return DemoTable("video front end", ("video", "duration (s)", "rows"), rows, note=note)
