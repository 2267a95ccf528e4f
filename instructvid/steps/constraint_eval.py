"""Quality of narration constraints against the ground truth (thesis Table A.1) and threshold choice.

The thesis reports precision and recall of its constraints (Table A.1: max-pooled word vectors
11.6 / 10.4 %, TF-IDF 13.3 / 11.4 %, learned aggregation 15.9 / 13.9 %), their IoU with the ground
truth (7.9 %) and the share of ground-truth steps entirely outside their interval (61 %), without
defining precision and recall. Ours, per video of a primary task with an annotation (T seconds,
K steps; a segment covers seconds ``floor(start) .. ceil(end) − 1``, as everywhere):

- **intervals**: the rows of the video's constraint CSV (one per step that got one);
- an interval of step k is a **hit** if it shares at least one second with the ground truth of
  step k;
- **present**: the (video, step) pairs with ground truth; a present step is **found** if one of
  its intervals is a hit;
- **precision** = hits / intervals, **recall** = found / present, **F1** = 2PR / (P + R);
- **frame precision** = |C ∧ G| / |C| and **frame recall** = |C ∧ G| / |G| over (second, step)
  cells (C = constraint matrix, G = ground truth); their magnitudes are those of Table A.1 (the
  thesis's 13.3 / 11.4 % are consistent with its IoU of 7.9 %, which interval-level recall,
  always ≥ 1 − outside = 39 %, is not) — we report both readings;
- **IoU** = Σ|C ∧ G| / Σ|C ∨ G| and **outside** = present steps not found / present — the
  definitions of :mod:`instructvid.steps.stats` (``constraint_iou``, ``outside_constraints``),
  computed by its :func:`~instructvid.steps.stats.video_statistics`.

Counts are pooled over a task's videos, the ratios computed per task, then averaged over the
tasks ("averaged over 18 primary tasks", as Table A.1). With one interval per step, recall =
1 − outside.

**Threshold** (:func:`select_threshold`): each matched step has the similarity of its chosen
window; a step whose similarity is below the threshold gets no interval. The threshold that
maximises F1 pooled over the validation videos is chosen among the observed similarities (ties:
the lowest, i.e. keep more intervals).

**Random baseline** (:func:`random_intervals`): every interval moved to a uniformly random start
in ``[0, T − length]``, same step and length; averaged over draws.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_write_json, atomic_write_text
from instructvid.io.crosstask import CrossTaskData, Segment, read_segments, segments_to_matrix
from instructvid.steps.stats import video_statistics

__all__ = [
    "METRICS",
    "PAPER_TABLE_A1",
    "ConstraintCounts",
    "ScoredInterval",
    "constraint_counts",
    "evaluate_folder",
    "evaluation_videos",
    "markdown_table",
    "mean_table",
    "random_intervals",
    "run_constraints_eval",
    "select_threshold",
    "summarize",
    "task_paragraphs",
]

PathLike = str | os.PathLike[str]

#: The reported ratios, in table order.
METRICS: tuple[str, ...] = (
    "precision",
    "recall",
    "f1",
    "frame_precision",
    "frame_recall",
    "iou",
    "outside",
)


@dataclass
class ConstraintCounts:
    """Additive counts behind the ratios (see the module docstring); ``+`` pools them."""

    n_videos: int = 0
    intervals: int = 0
    hits: int = 0
    present: int = 0
    found: int = 0
    cells_constraint: int = 0
    cells_truth: int = 0
    cells_both: int = 0
    cells_union: int = 0
    outside: int = 0

    def __add__(self, other: ConstraintCounts) -> ConstraintCounts:
        return ConstraintCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def ratios(self) -> dict[str, float]:
        """The :data:`METRICS` as fractions in [0, 1] (NaN when undefined)."""

        def ratio(a: float, b: float) -> float:
            return a / b if b else math.nan

        p = ratio(self.hits, self.intervals)
        r = ratio(self.found, self.present)
        f1 = 2 * p * r / (p + r) if p + r > 0 else (0.0 if p == 0 or r == 0 else math.nan)
        return {
            "precision": p,
            "recall": r,
            "f1": f1,
            "frame_precision": ratio(self.cells_both, self.cells_constraint),
            "frame_recall": ratio(self.cells_both, self.cells_truth),
            "iou": ratio(self.cells_both, self.cells_union),
            "outside": ratio(self.outside, self.present),
        }


def constraint_counts(
    constraints: Sequence[Segment], ground_truth: np.ndarray, *, video_id: str = "?"
) -> ConstraintCounts:
    """Counts of one video.

    Args:
        constraints: the video's intervals (steps 1-based, seconds).
        ground_truth: (T, K) 0/1 ground truth, one row per second.
        video_id: for messages.
    """
    gt = np.asarray(ground_truth, dtype=bool)
    n_frames, n_steps = gt.shape
    c = segments_to_matrix(constraints, n_frames, n_steps, source=f"constraints of {video_id}")
    stats = video_statistics("", video_id, gt, [], c)
    hits = 0
    for seg in constraints:
        rows = seg.rows()
        hits += bool(gt[rows.start : min(rows.stop, n_frames), seg.step - 1].any())
    present = int(stats.steps_present)
    outside = int(stats.steps_outside_constraints or 0)
    return ConstraintCounts(
        n_videos=1,
        intervals=len(constraints),
        hits=hits,
        present=present,
        found=present - outside,
        cells_constraint=int(c.astype(bool).sum()),
        cells_truth=int(gt.sum()),
        cells_both=int(stats.constraint_intersection or 0),
        cells_union=int(stats.constraint_union or 0),
        outside=outside,
    )


def summarize(per_video: Iterable[tuple[str, ConstraintCounts]], *, method: str) -> dict:
    """Per-task ratios and their mean over tasks, in the project's evaluation JSON shape.

    Args:
        per_video: ``(task_id, counts)`` of every evaluated video.
        method: the name recorded in the result.

    Returns:
        ``{"metric": "constraint_quality", "method", "per_task": {task: {metric: value}},
        "mean": {metric: mean over tasks}, "pooled": {metric: over all videos}, "n_videos",
        "counts": pooled counts}``.
    """
    tasks: dict[str, ConstraintCounts] = {}
    for task_id, counts in per_video:
        tasks[task_id] = tasks.get(task_id, ConstraintCounts()) + counts
    pooled = sum(tasks.values(), ConstraintCounts())
    per_task = {t: c.ratios() for t, c in sorted(tasks.items())}
    mean = {
        m: (
            float(np.mean(vals))
            if (vals := [r[m] for r in per_task.values() if not math.isnan(r[m])])
            else math.nan
        )
        for m in METRICS
    }
    return {
        "metric": "constraint_quality",
        "method": method,
        "per_task": per_task,
        "mean": mean,
        "pooled": pooled.ratios(),
        "n_videos": pooled.n_videos,
        "counts": asdict(pooled),
    }


@dataclass(frozen=True)
class ScoredInterval:
    """A candidate interval with the similarity of the window it came from."""

    segment: Segment
    score: float


def select_threshold(
    videos: Iterable[tuple[Sequence[ScoredInterval], np.ndarray]],
) -> tuple[float, dict[str, float]]:
    """The similarity threshold maximising F1 pooled over videos (module docstring).

    Args:
        videos: per video, its scored intervals (all of them, before any threshold) and its
            (T, K) ground truth.

    Returns:
        ``(threshold, {"precision", "recall", "f1", "intervals"})``; intervals with
        ``score >= threshold`` are kept. ``-inf`` (keep all) when there is no interval or no
        ground truth, or when no threshold gives a hit.
    """
    scores: list[float] = []
    hits: list[int] = []
    present = 0
    for intervals, truth in videos:
        gt = np.asarray(truth, dtype=bool)
        present += int(gt.any(axis=0).sum())
        for item in intervals:
            rows = item.segment.rows()
            scores.append(float(item.score))
            hits.append(
                int(gt[rows.start : min(rows.stop, gt.shape[0]), item.segment.step - 1].any())
            )
    best = (-math.inf, {"precision": math.nan, "recall": math.nan, "f1": 0.0, "intervals": 0})
    if not scores or present == 0:
        return best
    order = np.argsort(-np.asarray(scores), kind="stable")
    s = np.asarray(scores)[order]
    tp = np.cumsum(np.asarray(hits)[order])
    n = np.arange(1, len(s) + 1)
    # Only cut between different scores: the last index of each run of equal scores.
    ends = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    f1 = 2 * tp[ends] / (n[ends] + present)
    if f1.max() <= 0:
        all_tp = int(tp[-1])
        return -math.inf, {
            "precision": all_tp / len(s),
            "recall": all_tp / present,
            "f1": 0.0,
            "intervals": len(s),
        }
    # argmax of the reversed array = the largest n (lowest threshold) among ties
    pick = ends[len(ends) - 1 - int(np.argmax(f1[::-1]))]
    k_tp, k_n = int(tp[pick]), int(n[pick])
    return float(s[pick]), {
        "precision": k_tp / k_n,
        "recall": k_tp / present,
        "f1": 2 * k_tp / (k_n + present),
        "intervals": k_n,
    }


def random_intervals(
    segments: Sequence[Segment], duration: float, rng: np.random.Generator
) -> list[Segment]:
    """The same intervals (steps, lengths) at uniformly random starts in ``[0, duration − len]``."""
    out = []
    for seg in segments:
        length = min(seg.end - seg.start, duration)
        start = float(rng.uniform(0.0, max(duration - length, 0.0)))
        out.append(Segment(seg.step, round(start, 3), round(start + length, 3)))
    return out


def mean_table(results: Mapping[str, dict]) -> list[dict[str, float | str]]:
    """Rows ``{"method", metric: mean over tasks, ...}`` for a side-by-side table."""
    return [{"method": name, **res["mean"]} for name, res in results.items()]


# --------------------------------------------------------------------------------------------
# Evaluating folders of constraint CSVs, side by side

#: Table A.1 (precision, recall, %) and the release's constraint quality (A.1.1).
PAPER_TABLE_A1: dict[str, dict[str, float]] = {
    "wordvec": {"precision": 0.116, "recall": 0.104},
    "tfidf": {"precision": 0.133, "recall": 0.114},
    "learned": {"precision": 0.159, "recall": 0.139},
    "released": {"iou": 0.079, "outside": 0.61},
}


def evaluation_videos(
    data: CrossTaskData, task_ids: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """Annotated videos of the primary tasks that are not validation videos."""
    wanted = list(task_ids) if task_ids is not None else list(data.primary)
    out = []
    for task_id in wanted:
        val = set(data.val_videos.get(task_id, ()))
        out.extend(
            (task_id, v)
            for v in data.videos.get(task_id, [])
            if v not in val and data.has_annotation(task_id, v)
        )
    return out


def _read_folder(folder: Path, task_id: str, video_id: str, n_steps: int) -> list[Segment]:
    path = folder / f"{task_id}_{video_id}.csv"
    return read_segments(path, n_steps=n_steps) if path.is_file() else []


def evaluate_folder(
    data: CrossTaskData,
    folder: PathLike,
    videos: Sequence[tuple[str, str]],
    *,
    method: str,
    random_draws: int = 0,
    random_state: int = 0,
) -> dict:
    """Quality of the constraint CSVs in ``folder`` (a video without one has no interval).

    Args:
        data: the dataset (ground truth, video lengths).
        folder: holds ``<task>_<vid>.csv``.
        videos: the evaluated (task, video) pairs.
        method: name recorded in the result.
        random_draws: > 0 evaluates instead the random baseline of these intervals
            (:func:`random_intervals`), pooled over that many draws.
        random_state: seed of the draws (draw d of video i uses ``(random_state, d, i)``).

    Returns:
        :func:`summarize`'s dict.
    """
    folder = Path(folder)
    per_video = []
    for i, (task_id, vid) in enumerate(videos):
        n_steps = data.task(task_id).n_steps
        gt = data.ground_truth(task_id, vid)
        segments = _read_folder(folder, task_id, vid, n_steps)
        if random_draws <= 0:
            per_video.append((task_id, constraint_counts(segments, gt, video_id=vid)))
            continue
        total = ConstraintCounts()
        for d in range(random_draws):
            rng = np.random.default_rng([random_state, d, i])
            moved = random_intervals(segments, float(gt.shape[0]), rng)
            total = total + constraint_counts(moved, gt, video_id=vid)
        per_video.append((task_id, total))
    return summarize(per_video, method=method)


def run_constraints_eval(
    data: CrossTaskData,
    subtitles: PathLike,
    out: PathLike,
    texts: Sequence[str],
    *,
    window: int | None = None,
    stride: int | None = None,
    length: float | None = None,
    shift: float = 0.0,
    text_model: PathLike | None = None,
    jobs: int = 1,
    random_draws: int = 10,
    random_state: int = 0,
    progress: Callable[[str], AbstractContextManager[Callable[[int, int], None]]] | None = None,
) -> dict:
    """Constraints from each representation (``OUT/<text>/``, primary tasks only, threshold
    chosen on the validation videos), evaluated on the other annotated videos, beside a random
    baseline with the same intervals and, when ``DATA`` has them, the released constraints.

    Writes ``OUT/constraints_eval.json`` and ``OUT/constraints_eval.md``; returns the JSON dict
    ``{"metric", "n_videos", "methods": {name: summarize-dict}, "thresholds", "table",
    "paper"}``.
    """
    from instructvid.steps import constraints as cons

    out = Path(out)
    videos = evaluation_videos(data)
    if not videos:
        raise ValueError("no annotated non-validation video of a primary task to evaluate on")
    methods: dict[str, dict] = {}
    thresholds: dict[str, dict] = {}
    for text in texts:
        ctx = progress(text) if progress is not None else nullcontext(None)
        with ctx as update:
            run = cons.build_constraints(
                data,
                subtitles,
                out / text,
                text=text,
                window=window or cons.DEFAULT_WINDOW,
                stride=stride or cons.default_stride(text),
                length=length or cons.DEFAULT_LENGTH,
                shift=shift,
                text_model=text_model if text == "learned" else None,
                task_ids=list(data.primary),
                jobs=jobs,
                random_state=random_state,
                progress=update,
            )
        thresholds[text] = {"threshold": run.threshold, "validation": run.validation}
        methods[text] = evaluate_folder(data, out / text, videos, method=text)
        methods[f"random ({text})"] = evaluate_folder(
            data,
            out / text,
            videos,
            method=f"random ({text})",
            random_draws=random_draws,
            random_state=random_state,
        )
    if data.paths.constraints.is_dir():
        methods["released"] = evaluate_folder(
            data, data.paths.constraints, videos, method="released"
        )
    result = {
        "metric": "constraint_quality",
        "n_videos": len(videos),
        "methods": methods,
        "thresholds": thresholds,
        "table": mean_table(methods),
        "paper": PAPER_TABLE_A1,
    }
    atomic_write_json(out / "constraints_eval.json", result)
    atomic_write_text(out / "constraints_eval.md", markdown_table(result))
    return result


_HEADERS = {
    "precision": "P",
    "recall": "R",
    "f1": "F1",
    "frame_precision": "frame P",
    "frame_recall": "frame R",
    "iou": "IoU",
    "outside": "outside",
}


def markdown_table(result: Mapping[str, Any]) -> str:
    """The side-by-side table (percent, mean over tasks) and the thesis's values."""

    def pct(v: float | None) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"

    lines = [
        f"Constraint quality on {result['n_videos']} annotated test videos "
        "(%, mean over primary tasks)",
        "",
        "| method | " + " | ".join(_HEADERS.values()) + " |",
        "|---|" + "---|" * len(_HEADERS),
    ]
    for row in result["table"]:
        lines.append(f"| {row['method']} | " + " | ".join(pct(row[m]) for m in _HEADERS) + " |")
    lines += ["", "Thesis (Table A.1, A.1.1; CrossTask):", ""]
    lines += [
        "| method | " + " | ".join(_HEADERS.values()) + " |",
        "|---|" + "---|" * len(_HEADERS),
    ]
    for name, vals in result["paper"].items():
        lines.append(f"| {name} | " + " | ".join(pct(vals.get(m)) for m in _HEADERS) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# A wikiHow stand-in for synthetic worlds

_STEP_SENTENCES = (
    "Make sure you {step} carefully.",
    "Now it is time to {step}.",
    "When you are ready, {step}.",
    "If you need to, {step} once more.",
    "Try to {verb} it evenly.",
    "Do not {verb} too fast.",
)
_OBJECT_SENTENCES = (
    "You will want to {verb} the {obj} slowly.",
    "Be careful with the {obj} at this point.",
    "The {obj} should be ready before you start.",
    "Keep the {obj} close at hand.",
    "Check the {obj} before moving on.",
)
_GENERIC_SENTENCES = (
    "This may take a few minutes.",
    "Take your time.",
    "It should look like the picture.",
    "Ask someone to help you if needed.",
)


def task_paragraphs(
    tasks: Iterable[Any], *, articles_per_task: int = 3, sentences: int = 4, random_state: int = 0
) -> str:
    """A paragraph file (see :func:`instructvid.text.embed.read_paragraphs`) made from task cards.

    A stand-in for wikiHow when none is at hand (synthetic worlds, tests): per task,
    ``articles_per_task`` articles; per step a paragraph of its headline (the step text) and
    ``sentences`` more sentences from templates around the step's verb (first word) and objects
    (other words), sometimes a generic sentence shared by all paragraphs.

    Args:
        tasks: objects with ``title`` and ``steps`` (:class:`~instructvid.io.crosstask.Task`).
        articles_per_task: articles written per task (different sentence draws).
        sentences: sentences per paragraph besides the headline.
        random_state: seed.
    """
    rng = np.random.default_rng(random_state)
    articles = []
    for task in tasks:
        for _ in range(articles_per_task):
            lines = [f"# {task.title}"]
            for step in task.steps:
                words = step.split()
                verb, objects = words[0], [w for w in words[1:] if len(w) > 3]
                para = [step[0].upper() + step[1:] + "."]
                for _ in range(sentences):
                    if objects and rng.random() < 0.5:
                        t = _OBJECT_SENTENCES[rng.integers(len(_OBJECT_SENTENCES))]
                        obj = objects[rng.integers(len(objects))]
                    elif rng.random() < 0.8:
                        t = _STEP_SENTENCES[rng.integers(len(_STEP_SENTENCES))]
                        obj = ""
                    else:
                        t = _GENERIC_SENTENCES[rng.integers(len(_GENERIC_SENTENCES))]
                        obj = ""
                    para.append(t.format(step=step, verb=verb, obj=obj))
                lines.append(" ".join(para))
            articles.append("\n".join(lines))
    return "\n\n".join(articles) + "\n"
