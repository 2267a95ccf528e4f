"""Training the actionness model by order verification, at scale (thesis §4.3.2, §4.4.1).

This module holds the run's hyper-parameters (:class:`TrainConfig`) and the training loop
(:func:`train_actionness`); the parts it puts together live in their own modules:

* :mod:`~instructvid.actionness.store` — the memory-mapped cumulative-sum store of the training
  videos' per-second features (a clip mean is two rows, whatever its length);
* :mod:`~instructvid.actionness.batches` — the seeded batches of an epoch and the background
  thread that prepares the next batch while the current one trains;
* :mod:`~instructvid.actionness.fused` — the ``fused`` engine (default on CPU): one compiled pass
  per batch computes the loss and its analytic gradient;
* :mod:`~instructvid.actionness.torch_engine` — the ``torch`` engine (default on GPU or with a
  custom clip function): clip means gathered into a buffer, then autograd;
* :mod:`~instructvid.actionness.checkpoint` — the per-epoch checkpoint and resume;
* :mod:`~instructvid.actionness.model_io` — ``RUN/model.pt`` (:func:`save_model`,
  :func:`load_model`);
* :mod:`~instructvid.actionness.estimator` — :class:`ActionnessEstimator`, the scikit-learn-like
  wrapper.

The hyper-parameters are :class:`~instructvid.actionness.config.TrainConfig`.

Loop
----
Adam, batch 1024, lr 1e-4 × 0.9 per epoch, 15 epochs (thesis). An epoch visits every eligible
training video ``sequences_per_video`` times in a random order (or, with category resampling, an
equal number of videos per category). Each sequence is sorted (``y = 1``) or fully reversed
(``y = 0``) with probability 1/2. Both engines compute the same gradients.

Reproducibility and resume
--------------------------
Epoch ``e`` draws from ``numpy.random.default_rng([seed, e])`` and the model is initialised from
``seed``. After each epoch the model, the optimiser state and the history are checkpointed
atomically in ``RUN/checkpoint.pt``; a killed run started again with the same arguments
continues after the last finished epoch and ends with exactly the weights of an uninterrupted run
(same machine and thread count). Outputs: ``RUN/model.pt`` (weights + config), ``RUN/train.json``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from instructvid.actionness.batches import epoch_batches, epoch_size, n_batches, prefetch
from instructvid.actionness.checkpoint import (
    resume_checkpoint,
    save_checkpoint,
)
from instructvid.actionness.config import TrainConfig
from instructvid.actionness.fused import fused_epoch
from instructvid.actionness.model import ActionnessModel, ClipFeatureFn, resolve_device
from instructvid.actionness.model_io import save_model
from instructvid.actionness.sampling import SequenceSampler, check_no_overlap
from instructvid.actionness.store import FeatureStore
from instructvid.actionness.torch_engine import custom_batches, gathered_batches, torch_epoch
from instructvid.io.atomic import atomic_write_json
from instructvid.types import PathLike, ProgressCallback

__all__ = ["TrainResult", "train_actionness"]


@dataclass
class TrainResult:
    """What a run produced: the model, its folder and per-epoch history."""

    model: ActionnessModel
    run: Path
    config: TrainConfig
    history: list[dict[str, float]] = field(default_factory=list)
    n_videos: int = 0
    n_eligible: int = 0


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
    progress: ProgressCallback | None = None,
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
    progress: ProgressCallback | None,
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
    ckpt_path = run / "checkpoint.pt"
    history, start_epoch = resume_checkpoint(
        ckpt_path, model, optim, run_key=run_key, fingerprint=store.fingerprint, device=dev
    )

    per_epoch = epoch_size(config, eligible, cat_arr)
    total_batches = config.epochs * n_batches(per_epoch, config.batch_size)
    done_batches = start_epoch * n_batches(per_epoch, config.batch_size)
    if progress is not None:
        progress(done_batches, total_batches)

    def batch_done() -> None:
        nonlocal done_batches
        done_batches += 1
        if progress is not None:
            progress(done_batches, total_batches)

    feats_cache: dict[int, np.ndarray] = {}
    for epoch in range(start_epoch, config.epochs):
        for group in optim.param_groups:
            group["lr"] = config.lr * config.lr_decay**epoch
        t0 = time.perf_counter()
        batches = epoch_batches(epoch, config, sampler, eligible, cat_arr)
        if engine == "fused":
            loss_sum, correct, n_seq = fused_epoch(
                store, prefetch(batches), model, optim, on_batch=batch_done
            )
        else:
            source: Iterator[tuple[np.ndarray, np.ndarray]]
            if clip_fn is None:
                source = prefetch(gathered_batches(batches, store, config))
            else:
                source = custom_batches(batches, store, features, clip_fn, feats_cache)
            loss_sum, correct, n_seq = torch_epoch(source, model, optim, dev, on_batch=batch_done)
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
        save_checkpoint(
            ckpt_path,
            epoch=epoch + 1,
            model=model,
            optim=optim,
            history=history,
            run_key=run_key,
            fingerprint=store.fingerprint,
        )
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
