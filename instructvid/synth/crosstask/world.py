"""The shared part of a synthetic CrossTask world: tasks with their latent statistics, video ids
and appearance vectors (:func:`build_world`), and each video's seeds (:func:`video_seeds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from instructvid.io.crosstask import Task
from instructvid.synth.crosstask import vocabulary as vocab
from instructvid.synth.crosstask.spec import TOPICS, WorldSpec, resolve_spec

__all__ = ["World", "WorldTask", "build_world", "unit_vectors", "video_seeds"]

_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


@dataclass(frozen=True)
class WorldTask:
    """A task of a world with its latent statistics.

    Attributes:
        index: position among all tasks of the world (primary first).
        task: the task card.
        primary: annotated or not.
        videos: video ids, in ``videos.csv`` order.
        val: the validation video ids (primary tasks only).
        missing: per-step probability of being missing from a video, shape (K,).
        background: mean background fraction of its videos.
        order: target order consistency.
        swap: probability of swapping two adjacent present steps.
    """

    index: int
    task: Task
    primary: bool
    videos: tuple[str, ...]
    val: tuple[str, ...]
    missing: np.ndarray
    background: float
    order: float
    swap: float


@dataclass
class World:
    """Everything that is shared by the videos of a synthetic world.

    Attributes:
        spec: the size.
        seed: the seed.
        dim: D.
        tasks: primary tasks first, then related ones.
        components: sorted component names (M).
        prototypes: (M, D) unit prototypes of the components.
        step_vectors: ``{task_id: (K, D)}`` unit step appearances.
        topics: (len(TOPICS), D) unit background topics.
        context: ``{task_id: (D,)}`` unit task-context vectors.
        action: (D,) unit action direction.
        progress: (D,) unit progress direction.
    """

    spec: WorldSpec
    seed: int
    dim: int
    tasks: list[WorldTask]
    components: list[str]
    prototypes: np.ndarray
    step_vectors: dict[str, np.ndarray]
    topics: np.ndarray
    context: dict[str, np.ndarray]
    action: np.ndarray
    progress: np.ndarray


def build_world(size: str = "tiny", *, seed: int = 0, dim: int | None = None) -> World:
    """Draw the shared part of a world (tasks, video ids, appearance vectors); writes nothing.

    Raises:
        ValueError: unknown ``size`` or ``dim < 8``.
    """
    spec, dim = resolve_spec(size, dim)
    lat = spec.latent
    primary = list(vocab.PRIMARY_TASKS[: spec.n_primary])
    related = _pick_related(primary, spec.n_related)
    struct = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    table = np.array([(t.missing, t.background, t.order) for t in vocab.PRIMARY_TASKS])

    tasks: list[WorldTask] = []
    used_ids: set[str] = set()
    for index, ts in enumerate(primary + related):
        is_primary = index < len(primary)
        if is_primary:
            n_videos = ts.n_videos if spec.videos_per_primary is None else spec.videos_per_primary
            missing, background, order = ts.missing, ts.background, ts.order
        else:
            n_videos = spec.videos_per_related
            row = table[struct.integers(len(table))]
            missing = float(np.clip(row[0] + struct.normal(0, 0.03), 0.1, 0.5))
            background = float(np.clip(row[1] + struct.normal(0, 0.03), 0.55, 0.86))
            order = float(np.clip(row[2] + struct.normal(0, 0.03), 0.6, 1.0))
        k = len(ts.steps)
        per_step = np.clip(missing + struct.normal(0, 0.12, size=k), 0.03, 0.8)
        per_step = np.clip(per_step + (missing - per_step.mean()), 0.02, 0.85)
        videos = []
        for _ in range(n_videos):
            vid = "".join(_ID_ALPHABET[struct.integers(64, size=11)])
            while vid in used_ids:
                vid = "".join(_ID_ALPHABET[struct.integers(64, size=11)])
            used_ids.add(vid)
            videos.append(vid)
        val: tuple[str, ...] = ()
        if is_primary:
            chosen = np.sort(struct.permutation(n_videos)[: spec.val_per_primary])
            val = tuple(videos[i] for i in chosen)
        task = Task(task_id=ts.task_id, title=ts.title, url=ts.url, steps=ts.steps)
        tasks.append(
            WorldTask(
                index=index,
                task=task,
                primary=is_primary,
                videos=tuple(videos),
                val=val,
                missing=per_step,
                background=float(background),
                order=float(order),
                swap=float(min(0.7, lat.order_swap * (1.0 - order))),
            )
        )

    appear = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, dim)))
    components = sorted({c for t in tasks for s in t.task.steps for c in vocab.components(s)})
    prototypes = unit_vectors(appear.standard_normal((len(components), dim)))
    position = {c: i for i, c in enumerate(components)}
    step_vectors = {}
    context = {}
    for t in tasks:
        rows = []
        for step in t.task.steps:
            mean = prototypes[[position[c] for c in vocab.components(step)]].mean(axis=0)
            own = unit_vectors(appear.standard_normal(dim))
            rows.append(unit_vectors(unit_vectors(mean) + lat.step_specific * own))
        step_vectors[t.task.task_id] = np.array(rows)
        context[t.task.task_id] = unit_vectors(appear.standard_normal(dim))
    topics = unit_vectors(appear.standard_normal((len(TOPICS), dim)))
    action = unit_vectors(appear.standard_normal(dim))
    progress = unit_vectors(appear.standard_normal(dim))
    return World(
        spec=spec,
        seed=seed,
        dim=dim,
        tasks=tasks,
        components=components,
        prototypes=prototypes,
        step_vectors=step_vectors,
        topics=topics,
        context=context,
        action=action,
        progress=progress,
    )


def _pick_related(primary: Sequence[vocab.TaskSpec], n: int) -> list[vocab.TaskSpec]:
    """``n`` related tasks for the chosen primary tasks, in vocabulary order.

    Round robin over the primary tasks (each one's related tasks by decreasing number of
    components shared with all chosen primary tasks), then the others by shared components.
    """
    if n >= len(vocab.RELATED_TASKS):
        return list(vocab.RELATED_TASKS)
    words = {c for t in primary for s in t.steps for c in vocab.components(s)}

    def shared(item: tuple[int, vocab.TaskSpec]) -> tuple[int, int]:
        index, t = item
        return (-len(words & {c for s in t.steps for c in vocab.components(s)}), index)

    ranked = sorted(enumerate(vocab.RELATED_TASKS), key=shared)
    queues = [[item for item in ranked if item[1].related_to == p.title] for p in primary]
    chosen: list[tuple[int, vocab.TaskSpec]] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    chosen += [item for item in ranked if item not in chosen][: n - len(chosen)]
    return [t for _, t in sorted(chosen, key=lambda item: item[0])]


def unit_vectors(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to unit L2 norm along its last axis."""
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def video_seeds(world: World, task: WorldTask, video_index: int) -> list[np.random.SeedSequence]:
    """The seeds of video ``video_index`` of ``task``: ``[plan, features]``.

    ``SeedSequence(seed, spawn_key=(1, task, video))``, spawned in two: independent of the
    generation order and of ``world.dim``.
    """
    root = np.random.SeedSequence(world.seed, spawn_key=(1, task.index, video_index))
    return root.spawn(2)
