"""What sharing buys: the "gain from sharing" row of Table 3.3 and the analysis of Fig. 3.6.

Pure functions on two benchmark summaries (``DIR/<method>.json``): the *shared* method (the
proposed ``component``) and the *unshared* one (``task``: task-specific steps).

* :func:`gain_from_sharing` — per task ``recall(shared) − recall(unshared)`` (each averaged over
  the splits), their mean, and the number of tasks where sharing helps (gain > 0; thesis: 17 of
  18, mean +3.7 points).
* :func:`step_recalls` — a method's recall per step, pooled over the splits
  (Σ hits / Σ occurrences of the step in the test videos of every split), from the per-step
  counts each split result carries (``per_split[i]["per_step"]``).
* :func:`step_gains` and :func:`component_gains` — Fig. 3.6: for every step tested by both
  methods its recall under each; for every component (stemmed word) the mean, over the tested
  steps that contain it, of the change in recall, with the number of such steps and the number
  of tasks (of all tasks given, primary and related) whose steps contain it. A component is
  *shared* when it occurs in at least two tasks; the thesis's examples: "stir" +15 points over
  30 steps, "cut shelf" 47 → 28.

Recalls are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from instructvid.text.components import step_components

__all__ = [
    "ComponentGain",
    "StepGain",
    "component_gains",
    "gain_from_sharing",
    "step_gains",
    "step_recalls",
]


def gain_from_sharing(shared: Mapping[str, Any], unshared: Mapping[str, Any]) -> dict[str, Any]:
    """Table 3.3's last row from two summaries (``per_task``, ``mean``; fractions).

    Returns:
        ``{"shared", "unshared", "per_task": {task: gain}, "mean": gain over the common tasks,
        "helped": tasks with gain > 0, "hurt": gain < 0, "n_tasks"}``.

    Raises:
        ValueError: the two summaries share no task.
    """
    a, b = shared["per_task"], unshared["per_task"]
    tasks = sorted(set(a) & set(b))
    if not tasks:
        raise ValueError(
            f"{shared.get('method')!r} and {unshared.get('method')!r} have no task in common"
        )
    per_task = {t: float(a[t]) - float(b[t]) for t in tasks}
    gains = np.array(list(per_task.values()))
    return {
        "shared": shared.get("method"),
        "unshared": unshared.get("method"),
        "per_task": per_task,
        "mean": float(gains.mean()),
        "helped": int((gains > 0).sum()),
        "hurt": int((gains < 0).sum()),
        "n_tasks": len(tasks),
    }


def step_recalls(summary: Mapping[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per task, ``(matched (K,), total (K,))`` summed over the summary's splits.

    Raises:
        ValueError: a split result has no per-step counts (it was computed before they were
            recorded: re-run the benchmark into a new folder).
    """
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for result in summary["per_split"]:
        per_step = result.get("per_step")
        if per_step is None:
            raise ValueError(
                f"method {summary.get('method')!r}: split {result.get('split')} has no per-step "
                "recall (cached by an older version); re-run the benchmark into a new folder"
            )
        for task, counts in per_step.items():
            m = np.asarray(counts["matched"], dtype=np.int64)
            t = np.asarray(counts["total"], dtype=np.int64)
            if task in out:
                out[task] = (out[task][0] + m, out[task][1] + t)
            else:
                out[task] = (m, t)
    return out


@dataclass(frozen=True)
class StepGain:
    """One step tested by both methods: recalls (fractions) and occurrences in test videos."""

    task_id: str
    step: int  # 1-based, task order
    text: str
    occurrences: int
    unshared: float
    shared: float

    @property
    def gain(self) -> float:
        return self.shared - self.unshared


@dataclass(frozen=True)
class ComponentGain:
    """One component: mean recall of the tested steps containing it, under each method."""

    component: str
    n_steps: int  # tested steps that contain it
    n_tasks: int  # tasks (of all given) whose steps contain it
    unshared: float
    shared: float
    gain: float
    steps: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "steps": list(self.steps)}


def step_gains(
    shared: Mapping[str, tuple[np.ndarray, np.ndarray]],
    unshared: Mapping[str, tuple[np.ndarray, np.ndarray]],
    steps: Mapping[str, Sequence[str]],
) -> list[StepGain]:
    """Every step that occurs in the test videos of both methods, in task then step order.

    Args:
        shared, unshared: :func:`step_recalls` of the two methods.
        steps: ``{task_id: step texts in task order}`` (at least the tested tasks).
    """
    rows = []
    for task in sorted(set(shared) & set(unshared)):
        (ms, ts), (mu, tu) = shared[task], unshared[task]
        texts = steps[task]
        if not (len(ms) == len(mu) == len(texts)):
            raise ValueError(
                f"task {task}: {len(texts)} steps but per-step counts of lengths "
                f"{len(ms)} and {len(mu)}"
            )
        for k, text in enumerate(texts):
            if ts[k] > 0 and tu[k] > 0:
                rows.append(
                    StepGain(
                        task_id=task,
                        step=k + 1,
                        text=text,
                        occurrences=int(ts[k]),
                        unshared=float(mu[k] / tu[k]),
                        shared=float(ms[k] / ts[k]),
                    )
                )
    return rows


def component_gains(
    rows: Sequence[StepGain],
    all_steps: Mapping[str, Sequence[str]],
    *,
    stem: bool = True,
    min_tasks: int = 2,
) -> list[ComponentGain]:
    """Fig. 3.6: per component of the tested steps, the mean change in step recall.

    Args:
        rows: :func:`step_gains`.
        all_steps: ``{task_id: step texts}`` of every task the shared model could learn from
            (primary and related); counts the tasks a component occurs in.
        stem: components are stemmed words (as the model's ``--share component``).
        min_tasks: keep components occurring in at least this many tasks (2 = shared).

    Returns:
        Components sorted by decreasing gain (ties by name).
    """
    tasks_of: dict[str, set[str]] = {}
    for task, texts in all_steps.items():
        for text in texts:
            for c in step_components(text, stem=stem):
                tasks_of.setdefault(c, set()).add(task)
    members: dict[str, list[StepGain]] = {}
    for row in rows:
        for c in step_components(row.text, stem=stem):
            members.setdefault(c, []).append(row)
    out = []
    for c, group in members.items():
        n_tasks = len(tasks_of.get(c, set()) | {r.task_id for r in group})
        if n_tasks < min_tasks:
            continue
        unshared = float(np.mean([r.unshared for r in group]))
        shared = float(np.mean([r.shared for r in group]))
        out.append(
            ComponentGain(
                component=c,
                n_steps=len(group),
                n_tasks=n_tasks,
                unshared=unshared,
                shared=shared,
                gain=shared - unshared,
                steps=tuple(f"{r.task_id}: {r.text}" for r in group),
            )
        )
    out.sort(key=lambda g: (-g.gain, g.component))
    return out
