"""Training the actionness model by order verification, at scale (thesis §4.3.2, §4.4.1).

Data path
---------
Training videos are given as per-video feature files ``<vid>.npy`` (float (T, D), one row per
second). They are read once, one video at a time, into a **cumulative-sum store**
(:class:`FeatureStore`, ``store/cumsum.npy`` float32 of shape ``(Σ (T_v + 1), D)``): rows
``o_v .. o_v + T_v`` hold ``C_v[t] = Σ_{u<t} (x_u − x̄_v)``, so the mean of a clip
``[s, e)`` is ``(C_v[e] − C_v[s]) / (e − s) + x̄_v`` — two rows read per clip, whatever its
length. The per-video mean ``x̄_v`` is left out of training batches: it adds the same vector to
every clip of a sequence, which changes neither ``F`` (a difference) nor ``W`` (a softmax of
sums, shift-invariant), so ``G``, the loss and every gradient are unchanged, and centring keeps
the float32 sums small and precise. The store is memory-mapped: any number of videos.

Loop
----
Adam, batch 1024, lr 1e-4 × 0.9 per epoch, 15 epochs (thesis). An epoch visits every eligible
training video ``sequences_per_video`` times in a random order (or, with category resampling, an
equal number of videos per category). Each sequence is sorted (``y = 1``) or fully reversed
(``y = 0``) with probability 1/2. Sampling is vectorised with numpy and runs in a background
thread one batch ahead. Two engines compute the same gradients:

* ``fused`` (default on CPU): one compiled pass per batch (:func:`fused_loss_grad`) reads each
  clip's two rows once and computes ``S``, ``aᵀh``, ``W``, ``G``, the loss and its analytic
  gradient without materialising the batch, in fixed chunks on a thread pool;
* ``torch`` (default on GPU or with a custom clip function): a compiled kernel gathers the clip
  means of the batch into a reused buffer and :class:`ActionnessModel` is trained by autograd.

Reproducibility and resume
--------------------------
Epoch ``e`` draws from ``numpy.random.default_rng([seed, e])`` and the model is initialised from
``seed``. After each epoch the model, the optimiser state and the history are checkpointed
atomically in ``RUN/checkpoint.pt``; a killed run started again with the same arguments
continues after the last finished epoch and ends with exactly the weights of an uninterrupted run
(same machine and thread count). Outputs: ``RUN/model.pt`` (weights + config), ``RUN/train.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import torch
from numba import njit

from instructvid.actionness.model import ActionnessModel, ClipFeatureFn, resolve_device
from instructvid.actionness.sampling import SequenceSampler, category_epoch, check_no_overlap
from instructvid.io.atomic import atomic_open, atomic_write_json
from instructvid.io.crosstask import open_features

__all__ = [
    "ActionnessEstimator",
    "FeatureStore",
    "RunMismatchError",
    "TrainConfig",
    "TrainResult",
    "load_model",
    "train_actionness",
]

PathLike = str | os.PathLike[str]
ProgressFn = Callable[[int, int], None]


class RunMismatchError(ValueError):
    """``RUN`` holds a checkpoint made with other settings or other training videos."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (thesis values as defaults).

    Attributes:
        range_s: range ``d`` of a sequence in seconds (clips are ``d / 10`` long).
        n_clips: ``M`` clips per sequence.
        trim: fraction trimmed at each end of training videos (0 = untrimmed).
        epochs: number of epochs.
        batch_size: sequences per Adam step.
        lr: initial learning rate.
        lr_decay: learning rate factor per epoch.
        sequences_per_video: sequences drawn per eligible video per epoch.
        equal_categories: resample an equal number of videos per category every epoch.
        min_category_videos: categories with fewer videos are dropped (3,000 in the thesis).
        seed: seed of the initial weights and of the sampling.
        init_std: standard deviation of the initial weights.
    """

    range_s: int = 120
    n_clips: int = 5
    trim: float = 0.3
    epochs: int = 15
    batch_size: int = 1024
    lr: float = 1e-4
    lr_decay: float = 0.9
    sequences_per_video: int = 1
    equal_categories: bool = False
    min_category_videos: int = 3000
    seed: int = 0
    init_std: float = 0.01

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.sequences_per_video < 1:
            raise ValueError("epochs, batch_size and sequences_per_video must be >= 1")
        if self.lr <= 0 or not 0 < self.lr_decay <= 1:
            raise ValueError("lr must be > 0 and lr_decay in (0, 1]")


# --------------------------------------------------------------------------------------------
# The cumulative-sum store


@njit(nogil=True, cache=True, boundscheck=False)
def _gather_means(csum, rows_s, rows_e, inv_len, out):  # pragma: no cover - compiled
    """out[i] = (csum[rows_e[i]] - csum[rows_s[i]]) * inv_len[i] for every clip i."""
    d = csum.shape[1]
    for i in range(rows_s.shape[0]):
        a = rows_s[i]
        b = rows_e[i]
        f = inv_len[i]
        for j in range(d):
            out[i, j] = (csum[b, j] - csum[a, j]) * f


@njit(nogil=True, cache=True, boundscheck=False, fastmath=True)
def _fused_chunk(
    csum, rows_s, rows_e, inv_len, y, weight, bias, m, lo, hi, grad, stats
):  # pragma: no cover
    """Forward and analytic backward of sequences ``lo .. hi - 1`` (see :func:`fused_loss_grad`).

    Adds d(sum of losses)/d(weight) to ``grad`` (2, D) float32; ``stats`` = (loss sum, correct).
    """
    d = csum.shape[1]
    h = np.empty((m, d), dtype=np.float32)
    s = np.empty(m, dtype=np.float64)
    p = np.empty(m, dtype=np.float64)
    n_pairs = m * (m - 1) // 2
    z = np.empty(n_pairs, dtype=np.float64)
    f = np.empty(n_pairs, dtype=np.float64)
    ds = np.empty(m, dtype=np.float64)
    dp = np.empty(m, dtype=np.float64)
    for b in range(lo, hi):
        for c in range(m):
            k = b * m + c
            a0 = rows_s[k]
            a1 = rows_e[k]
            inv = inv_len[k]
            acc_s = np.float32(0.0)
            acc_p = np.float32(0.0)
            for j in range(d):
                v = (csum[a1, j] - csum[a0, j]) * inv
                h[c, j] = v
                acc_s += weight[0, j] * v
                acc_p += weight[1, j] * v
            s[c] = acc_s + bias
            p[c] = acc_p
        zmax = -np.inf
        q = 0
        for i in range(m):
            for j in range(i + 1, m):
                z[q] = s[i] + s[j]
                f[q] = p[i] - p[j]
                if z[q] > zmax:
                    zmax = z[q]
                q += 1
        tot = 0.0
        for q in range(n_pairs):
            z[q] = np.exp(z[q] - zmax)
            tot += z[q]
        g = 0.0
        for q in range(n_pairs):
            z[q] /= tot  # now W_ij
            g += z[q] * f[q]
        yb = y[b]
        # loss = softplus(g) - y g, stable
        if g > 0:
            loss = g + np.log1p(np.exp(-g)) - yb * g
            sig = 1.0 / (1.0 + np.exp(-g))
        else:
            loss = np.log1p(np.exp(g)) - yb * g
            eg = np.exp(g)
            sig = eg / (1.0 + eg)
        stats[0] += loss
        if (g > 0) == (yb > 0.5):
            stats[1] += 1.0
        dg = sig - yb
        for i in range(m):
            ds[i] = 0.0
            dp[i] = 0.0
        q = 0
        for i in range(m):
            for j in range(i + 1, m):
                dz = z[q] * (f[q] - g)  # dG/dz_ij, z_ij = s_i + s_j
                ds[i] += dz
                ds[j] += dz
                dp[i] += z[q]  # dG/dp_i through f_ij = p_i - p_j
                dp[j] -= z[q]
                q += 1
        for c in range(m):
            cs = np.float32(dg * ds[c])
            cp = np.float32(dg * dp[c])
            for j in range(d):
                grad[0, j] += cs * h[c, j]
                grad[1, j] += cp * h[c, j]


def _fused_batch(csum, rows_s, rows_e, inv_len, y, weight, bias, m, n_chunks):
    """Static chunks of sequences on a thread pool (the kernel releases the GIL); per-chunk
    sums are added in chunk order, so the result does not depend on the number of threads."""
    n_seq = y.shape[0]
    d = csum.shape[1]
    grads = np.zeros((n_chunks, 2, d), dtype=np.float32)
    stats = np.zeros((n_chunks, 2), dtype=np.float64)

    def work(c: int) -> None:
        lo, hi = c * n_seq // n_chunks, (c + 1) * n_seq // n_chunks
        _fused_chunk(csum, rows_s, rows_e, inv_len, y, weight, bias, m, lo, hi, grads[c], stats[c])

    list(_pool().map(work, range(n_chunks)))
    return grads.astype(np.float64).sum(axis=0), stats.sum(axis=0)


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="actionness")
    return _POOL


@dataclass
class FeatureStore:
    """Per-video centred cumulative sums of many videos in one memory-mapped float32 array.

    Attributes:
        root: the store's folder (``cumsum.npy``, ``index.json``).
        video_ids: the videos, in store order.
        lengths: (n,) int64 seconds per video.
        offsets: (n,) int64 row of each video's ``C[0] = 0`` in ``cumsum``.
        cumsum: float32 memmap of shape ``(Σ (T + 1), D)``.
    """

    root: Path
    video_ids: list[str]
    lengths: np.ndarray
    offsets: np.ndarray
    cumsum: np.ndarray
    fingerprint: str = ""

    @property
    def dim(self) -> int:
        return int(self.cumsum.shape[1])

    @classmethod
    def build(
        cls,
        root: PathLike,
        features: Mapping[str, PathLike],
        *,
        progress: ProgressFn | None = None,
    ) -> FeatureStore:
        """Open the store in ``root`` if it was built from the same files, else (re)build it.

        Args:
            root: folder of the store.
            features: ``{video_id: path of its (T, D) .npy}``.
            progress: ``progress(done, total)`` callback over videos.

        Raises:
            CrossTaskFormatError: a feature file is missing, unreadable or not (T, D) float.
            ValueError: videos with different feature dimensions.
        """
        root = Path(root)
        items = sorted((str(v), Path(p)) for v, p in features.items())
        if not items:
            raise ValueError("no training video")
        shapes = []
        for _vid, path in items:
            feats = open_features(path)
            shapes.append(feats.shape)
            if feats.shape[1] != shapes[0][1]:
                raise ValueError(
                    f"{path}: feature dimension {feats.shape[1]} differs from "
                    f"{shapes[0][1]} of {items[0][1]}"
                )
        fp = hashlib.sha256(
            json.dumps(
                [
                    [v, str(p), list(s), p.stat().st_size, p.stat().st_mtime_ns]
                    for (v, p), s in zip(items, shapes, strict=True)
                ]
            ).encode()
        ).hexdigest()
        index_path = root / "index.json"
        if index_path.is_file():
            try:
                store = cls.open(root)
                if store.fingerprint == fp:
                    return store
            except (OSError, ValueError, KeyError):
                pass
        lengths = np.array([s[0] for s in shapes], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)
        n_rows = int((lengths + 1).sum())
        dim = int(shapes[0][1])
        with atomic_open(root / "cumsum.npy", "wb") as handle:
            np.lib.format.write_array_header_2_0(
                handle, {"descr": "<f4", "fortran_order": False, "shape": (n_rows, dim)}
            )
            for k, (_vid, path) in enumerate(items):
                x = np.asarray(open_features(path), dtype=np.float64)
                c = np.zeros((x.shape[0] + 1, dim), dtype=np.float64)
                np.cumsum(x - x.mean(axis=0), axis=0, out=c[1:])
                handle.write(c.astype("<f4").tobytes())
                if progress is not None:
                    progress(k + 1, len(items))
        atomic_write_json(
            index_path,
            {
                "video_ids": [v for v, _ in items],
                "lengths": lengths.tolist(),
                "offsets": offsets.tolist(),
                "dim": dim,
                "fingerprint": fp,
            },
            indent=None,
        )
        return cls.open(root)

    @classmethod
    def open(cls, root: PathLike) -> FeatureStore:
        """Open an existing store (memory-mapped)."""
        root = Path(root)
        index = json.loads((root / "index.json").read_text())
        csum = np.load(root / "cumsum.npy", mmap_mode="r")
        return cls(
            root=root,
            video_ids=list(index["video_ids"]),
            lengths=np.asarray(index["lengths"], dtype=np.int64),
            offsets=np.asarray(index["offsets"], dtype=np.int64),
            cumsum=csum,
            fingerprint=str(index["fingerprint"]),
        )

    def batch_rows(
        self, videos: np.ndarray, starts: np.ndarray, clip_len: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row indices ``(rows_s, rows_e)`` (B·M,) of every clip and its ``1 / L`` (float32)."""
        m = starts.shape[1]
        rows_s = (self.offsets[videos][:, None] + starts).reshape(-1)
        rows_e = rows_s + np.repeat(clip_len, m)
        inv = np.repeat((1.0 / clip_len).astype(np.float32), m)
        return rows_s, rows_e, inv

    def clip_means(
        self,
        videos: np.ndarray,
        starts: np.ndarray,
        clip_len: np.ndarray,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Centred clip means of a batch: (B, M, D) float32.

        Args:
            videos: (B,) store indices.
            starts: (B, M) start seconds.
            clip_len: (B,) clip lengths in seconds.
            out: optional float32 buffer with at least B·M·D elements (reused between batches).
        """
        b, m = starts.shape
        rows_s, rows_e, inv = self.batch_rows(videos, starts, clip_len)
        if out is None:
            out = np.empty(b * m * self.dim, dtype=np.float32)
        buf = out[: b * m * self.dim].reshape(b * m, self.dim)
        _gather_means(self.cumsum, rows_s, rows_e, inv, buf)
        return buf.reshape(b, m, self.dim)


#: Static chunks of a batch in the fused kernel (fixed, so results do not depend on threads).
FUSED_CHUNKS = 8


def fused_loss_grad(
    store: FeatureStore,
    videos: np.ndarray,
    starts: np.ndarray,
    clip_len: np.ndarray,
    y: np.ndarray,
    model: ActionnessModel,
) -> tuple[float, int, np.ndarray]:
    """Mean BCE loss, number of correct order predictions and d(mean loss)/d(weight) (2, D).

    The same quantities as ``model.loss`` on ``store.clip_means(...)`` with autograd, computed by
    one compiled pass that reads each clip's two cumulative-sum rows once and never materialises
    the batch (the CPU training engine). ``d loss / d b`` is 0 (see :mod:`.model`).
    """
    rows_s, rows_e, inv = store.batch_rows(videos, starts, clip_len)
    weight = np.ascontiguousarray(model.weight.detach().cpu().numpy(), dtype=np.float32)
    grad, stats = _fused_batch(
        store.cumsum,
        rows_s,
        rows_e,
        inv,
        np.asarray(y, dtype=np.float64),
        weight,
        float(model.bias.detach()),
        starts.shape[1],
        FUSED_CHUNKS,
    )
    n = max(int(np.asarray(y).shape[0]), 1)
    return float(stats[0]) / n, int(stats[1]), grad / n


# --------------------------------------------------------------------------------------------
# Training


@dataclass
class TrainResult:
    """What a run produced: the model, its folder and per-epoch history."""

    model: ActionnessModel
    run: Path
    config: TrainConfig
    history: list[dict[str, float]] = field(default_factory=list)
    n_videos: int = 0
    n_eligible: int = 0


def _epoch_batches(
    epoch: int,
    config: TrainConfig,
    sampler: SequenceSampler,
    eligible: np.ndarray,
    categories: np.ndarray | None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Batches ``(videos (B,), starts (B, M), clip_len (B,), y (B,))`` of one epoch (seeded)."""
    rng = np.random.default_rng([config.seed, epoch])
    if categories is not None:
        base = eligible[category_epoch(categories[eligible], config.min_category_videos, rng)]
    else:
        base = eligible
    order = rng.permutation(np.tile(base, config.sequences_per_video))
    for lo in range(0, order.size, config.batch_size):
        vids = order[lo : lo + config.batch_size]
        starts, clip = sampler.sample(vids, rng)
        y = rng.random(vids.size) < 0.5
        starts[~y] = starts[~y, ::-1]  # y = 0: fully reversed
        yield vids, starts, clip, y


def _n_batches(n: int, batch: int) -> int:
    return (n + batch - 1) // batch


def _config_key(config: TrainConfig) -> dict[str, Any]:
    return asdict(config)


def train_actionness(
    features: Mapping[str, PathLike],
    run: PathLike,
    *,
    config: TrainConfig | None = None,
    eval_videos: Iterable[str] = (),
    eval_source: str = "the evaluation list",
    categories: Mapping[str, str] | None = None,
    store_dir: PathLike | None = None,
    device: str | torch.device = "auto",
    threads: int | None = None,
    clip_fn: ClipFeatureFn | None = None,
    engine: str = "auto",
    progress: ProgressFn | None = None,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train (or resume training) the actionness model by order verification.

    Args:
        features: ``{video_id: path of its (T, D) per-second .npy}`` of the training videos.
        run: output folder (``checkpoint.pt``, ``model.pt``, ``train.json``, ``store/``).
        config: hyper-parameters (thesis defaults).
        eval_videos: evaluation videos; a training video among them is an error.
        eval_source: how to name the evaluation list in that error.
        categories: ``{video_id: category}``; required with ``config.equal_categories``.
        store_dir: where to build the cumulative-sum store (default ``RUN/store``; share it
            between runs on the same videos).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
        threads: torch CPU threads during training (default: all cores but one, which samples
            and gathers the next batch); restored afterwards.
        clip_fn: a clip-feature function replacing the mean substitution (slow path: reads the
            per-video feature files for every batch).
        engine: ``"fused"`` (CPU: one compiled pass computes loss and gradient per batch, see
            :func:`fused_loss_grad`), ``"torch"`` (autograd on the batch of clip means; any
            device) or ``"auto"`` (fused on CPU with mean clip features, torch otherwise).
            Both give the same gradients up to float rounding; a run resumes with its engine.
        progress: ``progress(done, total)`` over the batches of the whole run.
        on_epoch_end: called with ``(epoch, stats)`` after each checkpoint (tests use it to
            simulate a kill).

    Raises:
        TrainEvalOverlapError: a training video is an evaluation video.
        RunMismatchError: ``run`` holds a checkpoint of other settings or videos.
        ValueError: no video long enough for ``M`` clips.
    """
    config = config or TrainConfig()
    run = Path(run)
    check_no_overlap(features.keys(), eval_videos, source=eval_source)
    saved_threads = torch.get_num_threads()
    # One core samples and gathers the next batch (background thread), the others run torch.
    n_threads = threads if threads is not None else max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(max(1, int(n_threads)))
    try:
        return _train(
            features,
            run,
            config,
            eval_videos,
            eval_source,
            categories,
            store_dir,
            device,
            clip_fn,
            engine,
            progress,
            on_epoch_end,
        )
    finally:
        torch.set_num_threads(saved_threads)


def _train(
    features: Mapping[str, PathLike],
    run: Path,
    config: TrainConfig,
    eval_videos: Iterable[str],
    eval_source: str,
    categories: Mapping[str, str] | None,
    store_dir: PathLike | None,
    device: str | torch.device,
    clip_fn: ClipFeatureFn | None,
    engine: str,
    progress: ProgressFn | None,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None,
) -> TrainResult:
    store = FeatureStore.build(store_dir or run / "store", features)
    sampler = SequenceSampler(store.lengths, config.range_s, config.n_clips, config.trim)
    eligible = np.flatnonzero(sampler.eligible)
    if eligible.size == 0:
        raise ValueError(
            f"no training video is long enough for M={config.n_clips} clips within range "
            f"{config.range_s} s after trimming {config.trim:g} at each end"
        )
    cat_arr = None
    if config.equal_categories:
        if categories is None:
            raise ValueError("equal_categories needs a category per training video")
        missing = [v for v in store.video_ids if v not in categories]
        if missing:
            raise ValueError(f"{len(missing)} training videos have no category, e.g. {missing[:3]}")
        cat_arr = np.array([categories[v] for v in store.video_ids])

    dev = resolve_device(device)
    if engine not in ("auto", "fused", "torch"):
        raise ValueError(f"engine must be auto, fused or torch, got {engine!r}")
    if engine == "auto":
        engine = "fused" if dev.type == "cpu" and clip_fn is None else "torch"
    if engine == "fused" and (dev.type != "cpu" or clip_fn is not None):
        raise ValueError("the fused engine runs on the CPU with the mean clip features only")
    run_key = {**_config_key(config), "engine": engine}
    model = ActionnessModel(store.dim, init_std=config.init_std, seed=config.seed).to(dev)
    optim = torch.optim.Adam(model.parameters(), lr=config.lr)
    history: list[dict[str, float]] = []
    start_epoch = 0
    ckpt_path = run / "checkpoint.pt"
    if ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location=dev, weights_only=False)
        if ckpt.get("config") != run_key or ckpt.get("store") != store.fingerprint:
            raise RunMismatchError(
                f"{ckpt_path}: checkpoint of a run with other settings or training videos "
                f"(saved {ckpt.get('config')}); use another output folder or delete it"
            )
        model.load_state_dict(ckpt["model"])
        optim.load_state_dict(ckpt["optimizer"])
        history = list(ckpt["history"])
        start_epoch = int(ckpt["epoch"])

    per_epoch = _epoch_size(config, eligible, cat_arr)
    total_batches = config.epochs * _n_batches(per_epoch, config.batch_size)
    done_batches = start_epoch * _n_batches(per_epoch, config.batch_size)
    if progress is not None:
        progress(done_batches, total_batches)
    feats_cache: dict[int, np.ndarray] = {}

    for epoch in range(start_epoch, config.epochs):
        for group in optim.param_groups:
            group["lr"] = config.lr * config.lr_decay**epoch
        t0 = time.perf_counter()
        loss_sum, correct, n_seq = 0.0, 0, 0
        batches = _epoch_batches(epoch, config, sampler, eligible, cat_arr)
        if engine == "fused":
            for vids, starts, clip, y_b in _prefetch(batches):
                loss_mean, n_correct, grad = fused_loss_grad(
                    store, vids, starts, clip, y_b.astype(np.float64), model
                )
                optim.zero_grad(set_to_none=True)
                model.weight.grad = torch.from_numpy(grad.astype(np.float32))
                model.bias.grad = torch.zeros_like(model.bias)
                optim.step()
                b = int(y_b.shape[0])
                loss_sum += loss_mean * b
                correct += n_correct
                n_seq += b
                done_batches += 1
                if progress is not None:
                    progress(done_batches, total_batches)
            source: Iterator[tuple[np.ndarray, np.ndarray]] = iter(())
        elif clip_fn is None:
            source = _prefetch(_gather_batches(batches, store, config))
        else:
            source = _custom_batches(batches, store, features, clip_fn, feats_cache)
        model.train()
        for h_np, y_np in source:
            h = torch.from_numpy(h_np).to(dev, non_blocking=True)
            y = torch.from_numpy(y_np).to(dev)
            g = model(h)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(g, y.to(g.dtype))
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            b = int(y_np.shape[0])
            loss_sum += float(loss.detach()) * b
            correct += int(((g.detach() > 0) == y.bool()).sum())
            n_seq += b
            done_batches += 1
            if progress is not None:
                progress(done_batches, total_batches)
        seconds = time.perf_counter() - t0
        stats = {
            "epoch": epoch + 1,
            "lr": config.lr * config.lr_decay**epoch,
            "loss": loss_sum / max(n_seq, 1),
            "accuracy": correct / max(n_seq, 1),
            "sequences": n_seq,
            "seconds": seconds,
            "sequences_per_second": n_seq / seconds if seconds > 0 else float("nan"),
        }
        history.append(stats)
        state = {
            "epoch": epoch + 1,
            "model": model.state_dict(),
            "optimizer": optim.state_dict(),
            "history": history,
            "config": run_key,
            "store": store.fingerprint,
        }
        with atomic_open(ckpt_path, "wb") as handle:
            torch.save(state, handle)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, stats)

    save_model(run / "model.pt", model, config, n_videos=len(store.video_ids))
    atomic_write_json(
        run / "train.json",
        {
            "config": _config_key(config),
            "engine": engine,
            "device": str(dev),
            "n_videos": len(store.video_ids),
            "n_eligible": int(eligible.size),
            "dim": store.dim,
            "history": history,
        },
    )
    return TrainResult(model, run, config, history, len(store.video_ids), int(eligible.size))


def _epoch_size(config: TrainConfig, eligible: np.ndarray, cats: np.ndarray | None) -> int:
    if cats is None:
        return int(eligible.size) * config.sequences_per_video
    _names, counts = np.unique(cats[eligible], return_counts=True)
    kept = counts[counts >= config.min_category_videos]
    if kept.size == 0:
        raise ValueError(
            f"no category has at least {config.min_category_videos} eligible videos "
            f"(largest: {counts.max()}); lower --min-category-videos or drop --equal-categories"
        )
    return int(kept.size * kept.min()) * config.sequences_per_video


def _gather_batches(
    batches: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    store: FeatureStore,
    config: TrainConfig,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Clip means of each batch into one of two alternating buffers (see :func:`_prefetch`)."""
    size = config.batch_size * config.n_clips * store.dim
    buffers = [np.empty(size, dtype=np.float32) for _ in range(3)]
    for k, (vids, starts, clip, y) in enumerate(batches):
        h = store.clip_means(vids, starts, clip, out=buffers[k % 3])
        yield h, y.astype(np.float32)


def _custom_batches(
    batches: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    store: FeatureStore,
    features: Mapping[str, PathLike],
    clip_fn: ClipFeatureFn,
    cache: dict[int, np.ndarray],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Slow path: a user clip-feature function called per video on its memory-mapped features."""
    for vids, starts, clip, y in batches:
        b, m = starts.shape
        out = None
        for v in np.unique(vids):
            if int(v) not in cache:
                cache[int(v)] = open_features(features[store.video_ids[int(v)]])
            rows = np.flatnonzero(vids == v)
            s = starts[rows].reshape(-1)
            e = s + np.repeat(clip[rows], m)
            h = np.asarray(clip_fn(cache[int(v)], s, e), dtype=np.float32)
            if out is None:
                out = np.empty((b, m, h.shape[-1]), dtype=np.float32)
            out[rows] = h.reshape(rows.size, m, -1)
        yield out, y.astype(np.float32)


def _prefetch(
    source: Iterator[tuple[np.ndarray, np.ndarray]], depth: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Run ``source`` in a background thread, ``depth`` batches ahead (order is preserved).

    The gather kernel releases the GIL, so on two cores sampling the next batch overlaps with
    training on the current one. With three rotating buffers and ``depth = 1`` a buffer is never
    overwritten while the consumer still reads it.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    sentinel = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(sentinel)
        except BaseException as exc:  # pragma: no cover - forwarded to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is sentinel:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# Saving and loading


def save_model(path: PathLike, model: ActionnessModel, config: TrainConfig, **meta: Any) -> Path:
    """Save weights, feature dimension and training config (atomically)."""
    state = {
        "dim": model.dim,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": _config_key(config),
        "meta": meta,
    }
    with atomic_open(path, "wb") as handle:
        torch.save(state, handle)
    return Path(path)


def load_model(
    path: PathLike, *, device: str | torch.device = "cpu"
) -> tuple[ActionnessModel, dict[str, Any]]:
    """Load a model saved by :func:`save_model` (a file, or a RUN folder holding ``model.pt``).

    Returns:
        ``(model in eval mode, {"config": ..., "meta": ...})``.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no trained model (expected RUN/model.pt from 'actionness train')"
        )
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = ActionnessModel(int(state["dim"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    return model.to(resolve_device(device)), {"config": state["config"], "meta": state["meta"]}


class ActionnessEstimator:
    """scikit-learn-like wrapper: ``fit(features, run)`` then ``score_video(features)``.

    Hyper-parameters are the fields of :class:`TrainConfig` (keyword arguments); the learned
    model is ``model_`` after :meth:`fit`.
    """

    def __init__(self, *, device: str = "auto", clip_seconds: int = 1, **params: Any) -> None:
        self.config = TrainConfig(**params)
        self.device = device
        self.clip_seconds = clip_seconds
        self.model_: ActionnessModel | None = None
        self.history_: list[dict[str, float]] = []

    def fit(
        self, features: Mapping[str, PathLike], run: PathLike, *, eval_videos: Iterable[str] = ()
    ) -> ActionnessEstimator:
        """Train on ``{video_id: feature path}``; checkpoints go to ``run``."""
        result = train_actionness(
            features, run, config=self.config, eval_videos=eval_videos, device=self.device
        )
        self.model_ = result.model.eval()
        self.history_ = result.history
        return self

    def score_video(self, features: np.ndarray) -> np.ndarray:
        """Per-second actionness (T,) of a video's (T, D) features."""
        from instructvid.actionness.proposals import score_video

        if self.model_ is None:
            raise RuntimeError("call fit() first")
        return score_video(self.model_, features, clip_seconds=self.clip_seconds)


def numba_threads() -> int:
    """Threads numba may use (informational, for benchmarks)."""
    return int(numba.get_num_threads())
