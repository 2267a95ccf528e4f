"""The parameters of synthetic CrossTask worlds: sizes (:data:`SIZES`, :class:`WorldSpec`), the
latent model's parameters (:class:`LatentParams`), background topics and the generator version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "GENERATOR_VERSION",
    "SIZES",
    "TOPICS",
    "LatentParams",
    "WorldSpec",
    "resolve_spec",
]

#: Bumped whenever the output for a given (size, seed, dim) changes.
GENERATOR_VERSION = "2"

#: Background topics: 0 = intro, 1 = outro, the others fill the gaps between steps.
TOPICS: tuple[str, ...] = (
    "intro",
    "outro",
    "talking to camera",
    "showing ingredients or tools",
    "showing the result",
    "b-roll",
)


@dataclass(frozen=True)
class LatentParams:
    """Parameters of the latent model (see ``docs/synth.md`` for the equations).

    Appearance (unit-norm vectors unless said otherwise; noise is per coordinate, so the noise
    along any fixed unit direction has the same std at every ``D``):

    Attributes:
        step_specific: eta, weight of a step's own random direction added to its components' mean.
        video_step: zeta, weight of a per-(video, step) random direction (people do steps
            differently).
        background_jitter: weight of a per-interval random direction added to a topic.
        task_context: kappa, weight of the task's context vector added to every frame of its
            videos.
        action: alpha, weight of the shared action direction on step frames.
        progress: gamma, weight of the progress direction; a step frame has
            ``progress * (k - 1 + phi) / K`` along it (``phi`` in [0, 1] the position within
            the step), a background interval a constant drawn uniformly in ``[0, progress]``.
        video_offset: nu, per-coordinate std of the per-video offset (camera, lighting).
        noise: sigma, per-coordinate std of the per-frame noise.
        noise_ar: AR(1) coefficient of the frame noise over seconds.
        step_log_sd: log-normal spread of step durations.
        video_background_sd: std of a video's background fraction around its task's.
        order_swap: adjacent present steps are swapped with probability
            ``order_swap * (1 - order consistency of the task)``.
        mention: probability that a present step is mentioned in the narration.
        mention_lead: mean lead (seconds) of a mention before the step starts.
        mention_lead_sd: std (seconds) of that lead.
        mention_repeat: probability of a second mention during the step.
        mention_missing: probability that a missing step is mentioned anyway.
        mention_spurious: probability of one out-of-order mention of a random step per video.
        constraint_length: (min, max) seconds of a constraint interval (uniform; mean 9 s).
        word_seconds: (min, max) duration of a spoken word.
        cue_words: maximum number of words of a subtitle cue.
    """

    step_specific: float = 0.35
    video_step: float = 0.3
    background_jitter: float = 0.3
    task_context: float = 0.3
    action: float = 0.6
    progress: float = 1.0
    video_offset: float = 0.05
    noise: float = 0.2
    noise_ar: float = 0.5
    step_log_sd: float = 0.45
    video_background_sd: float = 0.06
    order_swap: float = 1.5
    mention: float = 0.75
    mention_lead: float = 4.0
    mention_lead_sd: float = 4.5
    mention_repeat: float = 0.2
    mention_missing: float = 0.15
    mention_spurious: float = 0.35
    constraint_length: tuple[float, float] = (5.0, 13.0)
    word_seconds: tuple[float, float] = (0.28, 0.45)
    cue_words: int = 7


@dataclass(frozen=True)
class WorldSpec:
    """Size parameters of a synthetic world.

    Attributes:
        name: the size's name.
        n_primary: number of primary (annotated) tasks, taken from
            :data:`~instructvid.synth.crosstask.vocabulary.PRIMARY_TASKS` in order.
        n_related: number of related tasks (those closest to the chosen primary tasks).
        videos_per_primary: videos per primary task (validation included); ``None`` = the release's
            per-task counts (2,750 in total).
        val_per_primary: validation videos per primary task.
        videos_per_related: videos per related task.
        dim: default feature dimension D.
        step_median: median step duration (seconds).
        step_min: shortest step (seconds).
        step_max: longest step (seconds).
        latent: the latent-model parameters.
    """

    name: str
    n_primary: int
    n_related: int
    videos_per_primary: int | None
    val_per_primary: int
    videos_per_related: int
    dim: int
    step_median: float
    step_min: float
    step_max: float
    latent: LatentParams = field(default_factory=LatentParams)


#: The sizes of :func:`~instructvid.synth.crosstask.generate.generate_crosstask`.
SIZES: dict[str, WorldSpec] = {
    "tiny": WorldSpec("tiny", 3, 3, 8, 2, 4, 32, 4.5, 4.0, 9.0),
    "small": WorldSpec("small", 6, 10, 20, 4, 8, 64, 5.5, 4.0, 14.0),
    "medium": WorldSpec("medium", 18, 65, 45, 5, 15, 256, 9.0, 4.0, 25.0),
    "full": WorldSpec("full", 18, 65, None, 20, 30, 3200, 13.0, 4.0, 45.0),
}

_MIN_DIM = 8


def resolve_spec(size: str, dim: int | None) -> tuple[WorldSpec, int]:
    """The :class:`WorldSpec` of ``size`` and the feature dimension D (``dim``, or the size's).

    Raises:
        ValueError: unknown ``size`` or ``dim < 8``.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")
    spec = SIZES[size]
    if dim is None:
        dim = spec.dim
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < _MIN_DIM:
        raise ValueError(
            f"dim must be an integer >= {_MIN_DIM} (or None for {spec.dim}), got {dim!r}"
        )
    return spec, int(dim)
