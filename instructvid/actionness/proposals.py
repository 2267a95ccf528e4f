"""Per-second actionness of a video, and temporal proposals by TAG + NMS (thesis §4.4.1).

Scoring
-------
:func:`score_video` gives one actionness value per **second**: second ``t`` is scored as the clip
of ``clip_seconds`` seconds centred on it (``[t − (L − 1) // 2, … + L)``, cut at the video's
ends), whose feature is the mean of its per-second rows (or any :data:`ClipFeatureFn`). With the
default ``clip_seconds = 1`` every second is its own clip; since ``S`` is linear and clip features
are means, a longer clip equals a moving average of the per-second scores.

Proposals: Temporal Actionness Grouping (TAG, Zhao et al. ICCV 2017, as in SSN)
-------------------------------------------------------------------------------
Our own implementation of the grouping, on positions of ``step`` seconds (1 s for per-second
scores):

1. normalise the scores of the video to ``[0, 1]`` (min–max) and smooth them with a Gaussian of
   ``sigma`` positions (SSN smooths its actionness too);
2. for every threshold ``τ`` (default 0.05, 0.10, …, 0.95) mark the positions above ``τ``; the
   maximal runs of marked positions are ``[u_k, d_k)``;
3. for every tolerance ``γ`` (default 0.05, 0.1, 0.2, …, 0.8, 1.0) grow groups of consecutive
   runs: *forward* from each run ``x`` over runs ``x, x+1, …`` while the fraction of unmarked
   positions in ``[u_x, u_y)`` stays ``<= γ`` (the group ends at the end of the last run
   absorbed), and *backward* symmetrically from each run end; every group is a candidate;
4. union of the candidates over all ``(τ, γ)``, duplicates removed; a candidate is scored on the
   *unsmoothed* normalised scores by one of
   ``"contrast"`` (default): mean inside minus mean of the two flanks of ``flank`` × its length
   on either side (cut at the video's ends; an isolated high plateau ranks first),
   ``"mean"``: mean inside (favours very short groups), or
   ``"sum"``: sum inside (SSN's code; favours long groups);
   the ranking is our choice — the thesis does not say how it ranks TAG groups, and on the
   synthetic world contrast gives the best AR@AN (docs/actionness.md);
5. non-maximum suppression at tIoU 0.8 (the thesis's value), keeping at most ``max_proposals``.

SSN's code works on frame indices with an inclusive end; ours uses half-open position ranges
``[start, end)`` converted to seconds as ``[start·step, end·step]`` and clipped to the duration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.ndimage import gaussian_filter1d

from instructvid.actionness.model import ActionnessModel, ClipFeatureFn, mean_clip_features
from instructvid.io.proposals import VideoProposals
from instructvid.metrics.actionness import segment_tiou

__all__ = [
    "TAGConfig",
    "group_score",
    "nms",
    "score_video",
    "tag_groups",
    "video_proposals",
]

DEFAULT_THRESHOLDS = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2).tolist())
DEFAULT_TOLERANCES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def score_video(
    model: ActionnessModel,
    features: np.ndarray,
    *,
    clip_seconds: int = 1,
    clip_fn: ClipFeatureFn = mean_clip_features,
) -> np.ndarray:
    """Per-second actionness ``S`` of a video.

    Args:
        model: a trained :class:`ActionnessModel`.
        features: (T, D) per-second features (a memmap is fine).
        clip_seconds: length ``L`` of the clip centred on each second.
        clip_fn: clip-feature function (default: mean of the clip's rows).

    Returns:
        float64 (T,): ``S`` of the clip around each second.
    """
    feats = np.asarray(features)
    if feats.ndim != 2 or feats.shape[1] != model.dim:
        raise ValueError(
            f"expected (T, {model.dim}) per-second features, got shape {tuple(feats.shape)}"
        )
    t = feats.shape[0]
    length = max(1, int(clip_seconds))
    starts = np.arange(t) - (length - 1) // 2
    ends = np.minimum(starts + length, t)
    starts = np.maximum(starts, 0)
    return model.score_clips(clip_fn(feats, starts, ends))


@njit(cache=True, boundscheck=False)
def _tag_one(marked, gamma, out, n_out):  # pragma: no cover - compiled
    """Append TAG groups of one binary sequence and one tolerance to ``out`` (rows start, end)."""
    n = marked.shape[0]
    # runs
    ups = np.empty(n, np.int64)
    downs = np.empty(n, np.int64)
    r = 0
    p = 0
    while p < n:
        if marked[p]:
            q = p
            while q < n and marked[q]:
                q += 1
            ups[r] = p
            downs[r] = q
            r += 1
            p = q
        else:
            p += 1
    if r == 0:
        return n_out
    # neg[p] = unmarked positions in [0, p)
    neg = np.zeros(n + 1, np.float64)
    for p in range(n):
        neg[p + 1] = neg[p] + (0.0 if marked[p] else 1.0)
    # forward: for run x, first y > x with sig(u_y) > sig(u_x), sig(p) = neg[p] - gamma * p
    stack = np.empty(r, np.int64)
    nxt = np.full(r, r, np.int64)
    top = 0
    for y in range(r):
        sy = neg[ups[y]] - gamma * ups[y]
        while top > 0 and sy > neg[ups[stack[top - 1]]] - gamma * ups[stack[top - 1]]:
            nxt[stack[top - 1]] = y
            top -= 1
        stack[top] = y
        top += 1
    for x in range(r):
        out[n_out, 0] = ups[x]
        out[n_out, 1] = downs[nxt[x] - 1]
        n_out += 1
    # backward: for run x, last y < x with sig(d_y) < sig(d_x)
    prv = np.full(r, -1, np.int64)
    top = 0
    for y in range(r - 1, -1, -1):
        sy = neg[downs[y]] - gamma * downs[y]
        while top > 0 and sy < neg[downs[stack[top - 1]]] - gamma * downs[stack[top - 1]]:
            prv[stack[top - 1]] = y
            top -= 1
        stack[top] = y
        top += 1
    for x in range(r):
        out[n_out, 0] = ups[prv[x] + 1]
        out[n_out, 1] = downs[x]
        n_out += 1
    return n_out


def tag_groups(
    scores: np.ndarray,
    *,
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS,
    tolerances: tuple[float, ...] = DEFAULT_TOLERANCES,
) -> np.ndarray:
    """TAG candidate groups of a (normalised, smoothed) score sequence.

    Args:
        scores: (n,) scores per position, compared with the thresholds.
        thresholds: the ``τ`` values; a position is marked when its score is ``> τ``.
        tolerances: the ``γ`` values (fraction of unmarked positions allowed inside a group).

    Returns:
        int64 (k, 2) unique ``[start, end)`` position ranges, sorted.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    n = s.size
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    out = np.empty((len(thresholds) * len(tolerances) * (n + 1), 2), dtype=np.int64)
    n_out = 0
    for tau in thresholds:
        marked = s > tau
        if not marked.any():
            continue
        for gamma in tolerances:
            n_out = _tag_one(marked, float(gamma), out, n_out)
    if n_out == 0:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(out[:n_out], axis=0)


def nms(
    segments: np.ndarray,
    scores: np.ndarray,
    *,
    tiou: float = 0.8,
    max_keep: int | None = None,
) -> np.ndarray:
    """Greedy temporal non-maximum suppression.

    Args:
        segments: (n, 2) ``[start, end]`` (any unit).
        scores: (n,) higher first (ties: the earlier segment first).
        tiou: a segment overlapping a kept one with tIoU ``> tiou`` is removed.
        max_keep: stop after keeping this many.

    Returns:
        int64 indices of the kept segments, best first.
    """
    seg = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    sc = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-sc, kind="stable")
    keep: list[int] = []
    while order.size and (max_keep is None or len(keep) < max_keep):
        i = int(order[0])
        keep.append(i)
        if order.size == 1:
            break
        overlap = segment_tiou(seg[i : i + 1], seg[order[1:]])[0]
        order = order[1:][~(overlap > tiou)]
    return np.asarray(keep, dtype=np.int64)


def group_score(
    scores: np.ndarray, groups: np.ndarray, *, mode: str = "contrast", flank: float = 0.5
) -> np.ndarray:
    """Score of each ``[start, end)`` position range of ``groups`` (k, 2) on ``scores`` (n,).

    ``"mean"``, ``"sum"`` or ``"contrast"`` (mean inside − mean of the flanks of
    ``max(1, round(flank · length))`` positions on each side, cut at the ends; 0 flank positions
    count as a flank mean of 0).
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    g = np.asarray(groups, dtype=np.int64).reshape(-1, 2)
    csum = np.concatenate(([0.0], np.cumsum(s)))
    length = g[:, 1] - g[:, 0]
    sums = csum[g[:, 1]] - csum[g[:, 0]]
    if mode == "sum":
        return sums
    inner = sums / length
    if mode == "mean":
        return inner
    if mode != "contrast":
        raise ValueError(f"unknown group score {mode!r}")
    f = np.maximum(1, np.floor(flank * length + 0.5)).astype(np.int64)
    a0 = np.maximum(0, g[:, 0] - f)
    b1 = np.minimum(s.size, g[:, 1] + f)
    n_out = (g[:, 0] - a0) + (b1 - g[:, 1])
    outer = (csum[g[:, 0]] - csum[a0] + csum[b1] - csum[g[:, 1]]) / np.maximum(n_out, 1)
    return inner - outer


@dataclass(frozen=True)
class TAGConfig:
    """Settings of :func:`video_proposals` (see the module docstring)."""

    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    tolerances: tuple[float, ...] = DEFAULT_TOLERANCES
    sigma: float = 2.0
    score: str = "contrast"
    flank: float = 0.5
    nms_tiou: float = 0.8
    max_proposals: int = 100

    def __post_init__(self) -> None:
        if self.score not in ("contrast", "mean", "sum"):
            raise ValueError(f"score must be 'contrast', 'mean' or 'sum', got {self.score!r}")


def video_proposals(
    scores: np.ndarray,
    duration: float | None = None,
    *,
    step: float = 1.0,
    config: TAGConfig | None = None,
) -> VideoProposals:
    """Proposals of one video from its actionness scores.

    Args:
        scores: (n,) scores per position; position ``p`` covers ``[p·step, (p + 1)·step)`` s.
        duration: video length in seconds (proposals are clipped to it); default ``n·step``.
        step: seconds per position (1 for per-second scores, 0.2 for 0.2 s segments).
        config: TAG and NMS settings.

    Returns:
        :class:`VideoProposals` in seconds, best first (at most ``config.max_proposals``).
    """
    cfg = config or TAGConfig()
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        return VideoProposals(np.zeros((0, 2)), np.zeros(0))
    if not np.isfinite(s).all():
        raise ValueError("actionness scores must be finite")
    span = s.max() - s.min()
    norm = (s - s.min()) / span if span > 0 else np.full_like(s, 0.5)
    smooth = gaussian_filter1d(norm, cfg.sigma, mode="nearest") if cfg.sigma > 0 else norm
    groups = tag_groups(smooth, thresholds=cfg.thresholds, tolerances=cfg.tolerances)
    if groups.shape[0] == 0:
        return VideoProposals(np.zeros((0, 2)), np.zeros(0))
    group_scores = group_score(norm, groups, mode=cfg.score, flank=cfg.flank)
    keep = nms(groups, group_scores, tiou=cfg.nms_tiou, max_keep=cfg.max_proposals)
    limit = float(duration) if duration is not None else s.size * step
    segs = groups[keep].astype(np.float64) * step
    segs = np.minimum(segs, limit)
    return VideoProposals(segs, group_scores[keep])
