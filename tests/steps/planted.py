"""A tiny CrossTask-layout world with planted step appearances (for the step-model tests).

Every word of the step texts has a random unit prototype; a step's frames show the normalised
sum of its words' prototypes plus noise, background frames show a background direction plus
noise. Steps occur in task order, 3–5 s each, separated by background. Narration constraints
are intervals around the true segments (a few seconds wider), so weak supervision can find the
steps; everything is seeded.
"""

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

PRIMARY = {
    "10": ("pour milk", "whisk egg", "add sugar"),
    "20": ("pour water", "add salt", "whisk mixture"),
}
RELATED = {
    "30": ("pour milk", "add salt", "boil water"),
    "40": ("whisk egg", "pour water", "add sugar"),
}
WORDS = sorted(
    {w for steps in (*PRIMARY.values(), *RELATED.values()) for s in steps for w in s.split()}
)


def prototypes(dim: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Unit vectors of the words, and of ``"<background>"``."""
    rng = np.random.default_rng([seed, 99])
    vecs = rng.standard_normal((len(WORDS) + 1, dim))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return {**dict(zip(WORDS, vecs[:-1], strict=True)), "<background>": vecs[-1]}


def planted_video(
    steps: tuple[str, ...],
    rng: np.random.Generator,
    protos: dict[str, np.ndarray],
    *,
    noise: float = 0.35,
) -> tuple[np.ndarray, list[Segment], list[Segment]]:
    """(features (T, d), ground-truth segments, constraint segments) of one video."""
    dim = len(protos["<background>"])
    t = int(rng.integers(2, 6))
    segments = []
    for k in range(len(steps)):
        length = int(rng.integers(3, 6))
        segments.append(Segment(k + 1, float(t), float(t + length)))
        t += length + int(rng.integers(3, 9))
    n_frames = t + int(rng.integers(2, 6))
    x = protos["<background>"] + noise * rng.standard_normal((n_frames, dim))
    for seg, step in zip(segments, steps, strict=True):
        v = sum(protos[w] for w in step.split())
        x[int(seg.start) : int(seg.end)] = v / np.linalg.norm(v) + noise * rng.standard_normal(
            (int(seg.end - seg.start), dim)
        )
    constraints = [
        Segment(
            s.step,
            max(0.0, s.start - rng.integers(1, 4)),
            min(n_frames, s.end + rng.integers(1, 4)),
        )
        for s in segments
    ]
    return x.astype(np.float32), segments, constraints


def planted_world(
    root: Path,
    *,
    n_videos: int = 16,
    n_val: int = 2,
    n_related: int = 6,
    dim: int = 16,
    seed: int = 0,
) -> Path:
    """Write the world under ``root`` (CrossTask release layout) and return ``root``."""
    rng = np.random.default_rng(seed)
    protos = prototypes(dim, seed)
    release = root / "crosstask_release"
    write_task_cards(
        release / "tasks_primary.txt", [Task(t, f"Task {t}", "u", s) for t, s in PRIMARY.items()]
    )
    write_task_cards(
        release / "tasks_related.txt", [Task(t, f"Task {t}", "u", s) for t, s in RELATED.items()]
    )
    entries, val = [], []
    for tasks, count, annotated in ((PRIMARY, n_videos, True), (RELATED, n_related, False)):
        for task_id, steps in tasks.items():
            for i in range(count):
                vid = f"v{task_id}_{i:02d}"
                entries.append(VideoEntry(task_id, vid))
                if annotated and i < n_val:
                    val.append(VideoEntry(task_id, vid))
                x, segments, constraints = planted_video(steps, rng, protos)
                write_features(root / "crosstask_features" / f"{vid}.npy", x)
                if annotated:
                    write_segments(release / "annotations" / f"{task_id}_{vid}.csv", segments)
                write_segments(root / "crosstask_constraints" / f"{task_id}_{vid}.csv", constraints)
    write_video_list(release / "videos.csv", entries)
    write_video_list(release / "videos_val.csv", val)
    return root
