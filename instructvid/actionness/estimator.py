"""``ActionnessEstimator``: the scikit-learn-like wrapper (``fit`` on feature files, then
``score_video``) around :func:`~instructvid.actionness.train.train_actionness`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from instructvid.actionness.config import TrainConfig
from instructvid.actionness.model import ActionnessModel
from instructvid.actionness.proposals import score_video
from instructvid.actionness.train import train_actionness
from instructvid.runtime import limit_torch_threads
from instructvid.types import PathLike

__all__ = ["ActionnessEstimator"]


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
        """Per-second actionness (T,) of a video's (T, D) features (on one torch thread)."""
        if self.model_ is None:
            raise RuntimeError("call fit() first")
        with limit_torch_threads(1):
            return score_video(self.model_, features, clip_seconds=self.clip_seconds)
