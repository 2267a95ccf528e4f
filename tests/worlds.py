"""Small hand-built CrossTask datasets shared by the tests (written with the io writers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.io.crosstask import (
    Segment,
    Task,
    VideoEntry,
    write_features,
    write_segments,
    write_task_cards,
    write_video_list,
)


def mini_dataset(root: Path, n_frames: int = 20) -> Path:
    """One primary task (2 steps; videos a, b with b for validation), one related task."""
    release = root / "crosstask_release"
    write_task_cards(
        release / "tasks_primary.txt", [Task("1", "Make Tea", "u", ("boil water", "add tea"))]
    )
    write_task_cards(
        release / "tasks_related.txt", [Task("2", "Make Coffee", "u", ("grind bean",))]
    )
    write_video_list(
        release / "videos.csv", [VideoEntry("1", "a"), VideoEntry("1", "b"), VideoEntry("2", "c")]
    )
    write_video_list(release / "videos_val.csv", [VideoEntry("1", "b")])
    write_segments(
        release / "annotations" / "1_a.csv", [Segment(1, 2.5, 5.0), Segment(2, 9.0, 11.5)]
    )
    write_segments(root / "crosstask_constraints" / "1_a.csv", [Segment(1, 0.0, 8.0)])
    for vid in "abc":
        write_features(root / "crosstask_features" / f"{vid}.npy", np.zeros((n_frames, 4)))
    return root


def random_world(root: Path, n_videos: int = 12, n_val: int = 2, seed: int = 0) -> Path:
    """Two primary tasks with random annotations, one related task, fixed validation videos."""
    rng = np.random.default_rng(seed)
    release = root / "crosstask_release"
    tasks = [
        Task("10", "Make Tea", "u", ("boil water", "add tea", "pour milk")),
        Task("20", "Jack Up Car", "u", ("loosen nut", "jack up car")),
    ]
    write_task_cards(release / "tasks_primary.txt", tasks)
    write_task_cards(
        release / "tasks_related.txt", [Task("30", "Make Coffee", "u", ("grind bean",))]
    )
    entries, val = [], []
    for task in tasks:
        for i in range(n_videos):
            vid = f"{task.task_id}v{i:02d}"
            entries.append(VideoEntry(task.task_id, vid))
            if i < n_val:
                val.append(VideoEntry(task.task_id, vid))
            n_frames = int(rng.integers(task.n_steps + 3, 40))
            write_features(root / "crosstask_features" / f"{vid}.npy", np.zeros((n_frames, 2)))
            segs = []
            for k in range(task.n_steps):
                if rng.random() < 0.8:
                    start = float(rng.uniform(0, n_frames - 2))
                    segs.append(
                        Segment(k + 1, round(start, 2), round(start + rng.uniform(0.5, 6), 2))
                    )
            write_segments(release / "annotations" / f"{task.task_id}_{vid}.csv", segs)
    entries.append(VideoEntry("30", "rel0"))
    write_features(root / "crosstask_features" / "rel0.npy", np.zeros((10, 2)))
    write_video_list(release / "videos.csv", entries)
    write_video_list(release / "videos_val.csv", val)
    return root
