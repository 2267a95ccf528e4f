"""A synthetic world for actionness: per-second features + COIN-style annotations.

Layout written under ``OUT``::

    OUT/features/<vid>.npy     float32 (T, D), one row per second
    OUT/annotations.json       COIN.json layout: subset training/testing, class = task,
                               "domain" = category, steps as [start, end] seconds
    OUT/world.json             the configuration (and the seed)

Each video (``T`` seconds) is a sequence of *shots*: an **intro** (always first), background
shots and the task's **steps** in order, then an **outro** (always last). The per-second feature
of a shot is

    x_t = video offset + shot content + drift · (t − shot start) / shot length + noise,

* intro / outro: a fixed "intro" / "outro" appearance shared by every video, placed before the
  first step / after the last one along the progress direction (``−intro_progress`` and
  ``1 + intro_progress``): distinctive and always at the start / end, an order shortcut that
  training on untrimmed videos learns;
* step ``k`` of ``K``: a shared "action" appearance (hands, tools…) + the step's own prototype +
  ``progress_scale · k / (K − 1)`` along a shared **progress** direction: the appearance of
  actions advances in a predictable order over the steps of every task;
* background: a random topic from a shared pool, in random order, with a random position along the
  progress direction: its order is not predictable;
* drift: inside every shot (action or not) the features move along a shared "low-level" direction
  — a cue that tells the order of two nearby seconds wherever they are, so that order
  verification at short range does not single out actions (thesis §4.4.2, Fig. 4.4);
* a per-video random offset and Gaussian noise per second.

Deterministic per seed: the world's directions come from ``default_rng([seed, 0])``; video ``i``
from ``default_rng([seed, 1, i])``. Videos are written one by one (atomically); running again
with the same arguments skips finished videos and writes the same bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_write_json
from instructvid.io.coin import CoinSegment, CoinVideo, write_coin
from instructvid.io.crosstask import write_features
from instructvid.io.ids import safe_join
from instructvid.types import PathLike, ProgressCallback

__all__ = ["SIZES", "ActionnessWorld", "WorldConfig", "generate_actionness_world"]


@dataclass(frozen=True)
class WorldConfig:
    """Size and appearance of a synthetic actionness world (seconds for every duration)."""

    n_tasks: int = 8
    n_domains: int = 2
    videos_per_task: int = 30
    test_fraction: float = 0.25
    dim: int = 32
    steps: tuple[int, int] = (4, 7)
    duration: tuple[int, int] = (150, 260)
    intro: tuple[int, int] = (12, 25)
    step_len: tuple[int, int] = (6, 16)
    bg_len: tuple[int, int] = (4, 14)
    action_fraction: float = 0.45
    n_topics: int = 12
    action_scale: float = 0.9
    prototype_scale: float = 0.6
    progress_scale: float = 2.5
    intro_scale: float = 2.5
    intro_progress: float = 0.5
    topic_scale: float = 1.0
    drift_scale: float = 1.5
    offset_scale: float = 0.3
    noise: float = 1.0


SIZES: dict[str, WorldConfig] = {
    "tiny": WorldConfig(n_tasks=4, videos_per_task=10, dim=16, duration=(100, 160)),
    "small": WorldConfig(),
    "medium": WorldConfig(n_tasks=12, n_domains=3, videos_per_task=60, dim=64),
}


@dataclass(frozen=True)
class ActionnessWorld:
    """Paths of a generated world."""

    root: Path
    features: Path
    annotations: Path
    config: WorldConfig

    def feature_paths(self, video_ids: list[str] | None = None) -> dict[str, Path]:
        """``{video_id: features/<vid>.npy}`` (every ``.npy`` of the folder by default)."""
        if video_ids is None:
            return {p.stem: p for p in sorted(self.features.glob("*.npy"))}
        return {v: safe_join(self.features, f"{v}.npy") for v in video_ids}


def _unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    v = rng.standard_normal(dim)
    return v / np.linalg.norm(v)


def _world_directions(cfg: WorldConfig, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 0])
    d = cfg.dim
    dirs = {
        "action": _unit(rng, d),
        "progress": _unit(rng, d),
        "intro": _unit(rng, d),
        "outro": _unit(rng, d),
        "drift": _unit(rng, d),
        "topics": np.stack([_unit(rng, d) for _ in range(cfg.n_topics)]),
    }
    max_k = cfg.steps[1]
    dirs["prototypes"] = np.stack(
        [np.stack([_unit(rng, d) for _ in range(max_k)]) for _ in range(cfg.n_tasks)]
    )
    return dirs


def _video(
    cfg: WorldConfig, dirs: dict[str, np.ndarray], task: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Features (T, D) and step segments ``(step, start, end)`` (seconds) of one video."""
    k_steps = int(rng.integers(cfg.steps[0], cfg.steps[1] + 1))
    total = int(rng.integers(cfg.duration[0], cfg.duration[1] + 1))
    intro = int(rng.integers(cfg.intro[0], cfg.intro[1] + 1))
    outro = int(rng.integers(cfg.intro[0], cfg.intro[1] + 1))
    body = max(total - intro - outro, k_steps)
    step_lens = rng.integers(cfg.step_len[0], cfg.step_len[1] + 1, size=k_steps)
    # Scale steps to the target action fraction of the body, leave the rest to background.
    want = max(k_steps, int(cfg.action_fraction * body))
    step_lens = np.maximum(1, np.round(step_lens * want / step_lens.sum())).astype(int)
    bg_total = max(0, body - int(step_lens.sum()))
    # Background between/around steps: K + 1 gaps with random shares.
    shares = rng.dirichlet(np.ones(k_steps + 1))
    gaps = np.floor(shares * bg_total).astype(int)
    gaps[-1] += bg_total - gaps.sum()

    shots: list[tuple[str, int, int]] = [("intro", -1, intro)]
    for k in range(k_steps):
        shots += _background_shots(cfg, int(gaps[k]), rng)
        shots.append(("step", k, int(step_lens[k])))
    shots += _background_shots(cfg, int(gaps[-1]), rng)
    shots.append(("outro", -1, outro))

    t_total = sum(length for _, _, length in shots)
    d = cfg.dim
    x = rng.standard_normal((t_total, d)) * cfg.noise
    x += rng.standard_normal(d) * cfg.offset_scale
    segments = []
    t = 0
    for kind, k, length in shots:
        if length <= 0:
            continue
        if kind == "intro":
            content = (
                cfg.intro_scale * dirs["intro"]
                - cfg.progress_scale * cfg.intro_progress * dirs["progress"]
            )
        elif kind == "outro":
            content = (
                cfg.intro_scale * dirs["outro"]
                + cfg.progress_scale * (1 + cfg.intro_progress) * dirs["progress"]
            )
        elif kind == "step":
            progress = k / max(k_steps - 1, 1)
            content = (
                cfg.action_scale * dirs["action"]
                + cfg.prototype_scale * dirs["prototypes"][task, k]
                + cfg.progress_scale * progress * dirs["progress"]
            )
            segments.append((k + 1, t, t + length))
        else:  # background topic k, random position along the progress direction
            content = (
                cfg.topic_scale * dirs["topics"][k]
                + cfg.progress_scale * rng.random() * dirs["progress"]
            )
        ramp = (np.arange(length) + 0.5) / length - 0.5
        x[t : t + length] += content + cfg.drift_scale * ramp[:, None] * dirs["drift"]
        t += length
    return x.astype(np.float32), segments


def _background_shots(
    cfg: WorldConfig, total: int, rng: np.random.Generator
) -> list[tuple[str, int, int]]:
    shots = []
    while total > 0:
        length = min(total, int(rng.integers(cfg.bg_len[0], cfg.bg_len[1] + 1)))
        shots.append(("background", int(rng.integers(cfg.n_topics)), length))
        total -= length
    return shots


def generate_actionness_world(
    out: PathLike,
    *,
    size: str | WorldConfig = "small",
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> ActionnessWorld:
    """Write a synthetic actionness world (see the module docstring) and return its paths.

    Args:
        out: output folder.
        size: ``"tiny"``, ``"small"``, ``"medium"`` or a :class:`WorldConfig`.
        seed: the world's seed (same seed → same bytes).
        progress: ``progress(done, total)`` over videos.
    """
    if isinstance(size, str):
        if size not in SIZES:
            raise ValueError(f"unknown size {size!r}; choose one of {sorted(SIZES)}")
        cfg = SIZES[size]
    else:
        cfg = size
    root = Path(out)
    feat_dir = root / "features"
    dirs = _world_directions(cfg, seed)
    n_videos = cfg.n_tasks * cfg.videos_per_task
    split_rng = np.random.default_rng([seed, 2])
    videos: list[CoinVideo] = []
    for i in range(n_videos):
        task, j = divmod(i, cfg.videos_per_task)
        vid = f"t{task:02d}v{j:03d}"
        rng = np.random.default_rng([seed, 1, i])
        x, segs = _video(cfg, dirs, task, rng)
        path = safe_join(feat_dir, f"{vid}.npy")
        if not path.is_file():
            write_features(path, x)
        test = split_rng.random() < cfg.test_fraction
        videos.append(
            CoinVideo(
                video_id=vid,
                duration=float(x.shape[0]),
                subset="testing" if test else "training",
                cls=f"Task{task:02d}",
                recipe_type=task,
                segments=tuple(
                    CoinSegment(float(s), float(e), f"task {task} step {k}", f"{task}.{k}")
                    for k, s, e in segs
                ),
                extra={"domain": f"Domain{task % cfg.n_domains}"},
            )
        )
        if progress is not None:
            progress(i + 1, n_videos)
    ann = write_coin(
        root / "annotations.json", videos, note=f"synthetic actionness world, seed {seed}"
    )
    cfg_dict = asdict(cfg)
    atomic_write_json(root / "world.json", {"seed": seed, "config": cfg_dict})
    return ActionnessWorld(root, feat_dir, ann, cfg)
