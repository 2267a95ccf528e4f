"""The hyper-parameters of one actionness training run (:class:`TrainConfig`, thesis defaults).

Its own module so that the training loop and the parts it puts together (batches, engines,
``RUN/model.pt``) all read the settings without importing the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrainConfig"]


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
