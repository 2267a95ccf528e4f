"""Demo stage: per-second features from a few short generated videos (the video front end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
