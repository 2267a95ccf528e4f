"""Step localization with a per-second cue (thesis eq. 4.4, Table 4.2).

Given step scores ``f`` (T, K) of a video (one row per second; higher = more likely, e.g. the
step classifiers' log-softmax) and a per-second cue ``S`` (T,) — actionness in the thesis — the
steps are placed at one second each, in order, by the exactly-one ordered-assignment DP on

    C[t, k] = (1 − α) · f_k(x_t) + α · S(x_t),

i.e. ``argmax_{t_1 < … < t_K} Σ_k [(1 − α) f_k(x_{t_k}) + α S(x_{t_k})]``. ``α = 0`` is the step
scores alone (the labels are exactly those of the DP on ``f``); the thesis uses ``α = 0.8`` for
the CrossTask model (22.4 → 27.0 recall). The two terms must be on comparable scales;
``standardize=True`` z-scores ``S`` within the video first (our option, off by default). ``α``
is chosen on validation videos by :func:`choose_alpha` (CrossTask recall,
:mod:`instructvid.metrics.recall`).

Why here: these are pure array functions around the project's only DP. Both capabilities use
them — ``steps`` (``steps localize`` / ``steps benchmark --actionness``) and ``actionness``
— and capabilities must not import each other (``steps`` sees actionness only as plain (T,) arrays), so they live in ``align``,
next to the DP they call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from instructvid.align.dp import ordered_assignment, ordered_assignment_batch
from instructvid.metrics.recall import video_recall_counts

__all__ = [
    "DEFAULT_ALPHAS",
    "AlphaChoice",
    "choose_alpha",
    "combine_scores",
    "localize_with_actionness",
]


def combine_scores(
    step_scores: np.ndarray, actionness: np.ndarray, alpha: float, *, standardize: bool = False
) -> np.ndarray:
    """``(1 − α) f + α S`` broadcast over steps.

    Args:
        step_scores: (T, K) step scores, one row per second.
        actionness: (T,) per-second actionness.
        alpha: weight of actionness in ``[0, 1]``.
        standardize: z-score ``S`` within the video first.

    Returns:
        float64 (T, K).
    """
    f = np.asarray(step_scores, dtype=np.float64)
    s = np.asarray(actionness, dtype=np.float64).reshape(-1)
    if f.ndim != 2:
        raise ValueError(f"step scores must be (T, K), got shape {f.shape}")
    if s.shape[0] != f.shape[0]:
        raise ValueError(
            f"actionness has {s.shape[0]} seconds but the step scores have {f.shape[0]} (rows)"
        )
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if standardize:
        sd = s.std()
        s = (s - s.mean()) / sd if sd > 0 else np.zeros_like(s)
    return (1 - alpha) * f + alpha * s[:, None]


def localize_with_actionness(
    step_scores: np.ndarray, actionness: np.ndarray, alpha: float, *, standardize: bool = False
) -> np.ndarray:
    """Eq. 4.4: exactly-one ordered assignment on :func:`combine_scores`.

    Returns:
        uint8 (T, K) with one 1 per column, at strictly increasing seconds.
    """
    combined = combine_scores(step_scores, actionness, alpha, standardize=standardize)
    return ordered_assignment(combined, exactly_one=True, maximize=True)


#: Candidate values of alpha: 0, 0.1, …, 1.
DEFAULT_ALPHAS = tuple(round(0.1 * i, 1) for i in range(11))


@dataclass(frozen=True)
class AlphaChoice:
    """The chosen ``alpha`` and the validation recall (fraction) of every candidate."""

    alpha: float
    recall: dict[float, float]


def choose_alpha(
    videos: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    alphas: Sequence[float] | np.ndarray = DEFAULT_ALPHAS,
    *,
    standardize: bool = False,
    task_ids: Sequence[str] | None = None,
) -> AlphaChoice:
    """Pick ``α`` maximising recall on validation videos.

    Args:
        videos: ``(f (T, K), S (T,), ground truth (T, K) 0/1)`` per validation video.
        alphas: candidates; ties go to the smallest ``α``.
        standardize: as in :func:`combine_scores`.
        task_ids: the task of each video. Given: recall is CrossTask's (per task, matched
            steps / steps present pooled over the task's videos, then the unweighted mean over
            tasks — what the benchmark reports). Omitted: pooled over all videos.

    Returns:
        :class:`AlphaChoice` (recall as fractions; NaN when no video has a ground-truth step).
    """
    if not videos:
        raise ValueError("choose_alpha needs at least one validation video")
    if task_ids is not None and len(task_ids) != len(videos):
        raise ValueError(f"{len(task_ids)} task ids for {len(videos)} validation videos")
    groups = list(task_ids) if task_ids is not None else ["all"] * len(videos)
    recalls: dict[float, float] = {}
    for a in alphas:
        combined = [combine_scores(f, s, float(a), standardize=standardize) for f, s, _ in videos]
        preds = ordered_assignment_batch(combined, exactly_one=True, maximize=True)
        matched: dict[str, int] = {}
        total: dict[str, int] = {}
        for group, (_, _, gt), pred in zip(groups, videos, preds, strict=True):
            m, t = video_recall_counts(gt, pred)
            matched[group] = matched.get(group, 0) + m
            total[group] = total.get(group, 0) + t
        per_group = [matched[g] / total[g] for g in total if total[g]]
        recalls[float(a)] = float(np.mean(per_group)) if per_group else float("nan")
    best = max(recalls, key=lambda a: (np.nan_to_num(recalls[a], nan=-1.0), -a))
    return AlphaChoice(best, recalls)
