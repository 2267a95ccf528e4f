"""Options shared by the ``instructvid steps`` commands, and how they become library settings.

The DATA argument and its path overrides, :func:`open_dataset`, ``--n-train`` (``train``,
``tune``, ``transfer``) and ``--seed`` (``train``, ``tune``), and the training flags of
``train``, ``benchmark``, ``tune`` and ``transfer``: a command decorated with
:func:`training_options` declares one parameter ``training: TrainingFlags`` and gets the flags
(``--related/--no-related`` … ``--exact-a14``) in its place, in its ``--help`` as before;
:meth:`TrainingFlags.method_options` checks them once and builds the methods'
:class:`~instructvid.steps.benchmark.types.MethodOptions`. The hyper-parameters' defaults shown
in the help are read from :class:`~instructvid.steps.training.settings.StepHyperParameters`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from instructvid.cli.stop import fail
from instructvid.steps.training.settings import StepHyperParameters, format_default

if TYPE_CHECKING:
    from instructvid.io.crosstask import CrossTaskData
    from instructvid.steps.benchmark.types import MethodOptions

__all__ = [
    "CONSTRAINTS_OPT",
    "DATA_ARG",
    "FEATURES_OPT",
    "N_TRAIN_OPT",
    "RELEASE_OPT",
    "SEED_OPT",
    "TRAINING_OPTS",
    "TrainingFlags",
    "open_dataset",
    "training_options",
]

_HYPER = StepHyperParameters()

DATA_ARG = typer.Argument(
    ...,
    metavar="DATA",
    help="DATA folder holding crosstask_release/, crosstask_features/, crosstask_constraints/.",
)
RELEASE_OPT = typer.Option(None, "--release", help="Override DATA/crosstask_release.")
FEATURES_OPT = typer.Option(None, "--features", help="Override DATA/crosstask_features.")
CONSTRAINTS_OPT = typer.Option(None, "--constraints", help="Override DATA/crosstask_constraints.")
# The split of train, tune (and transfer: --n-train); benchmark's help speaks of the thesis's.
N_TRAIN_OPT = typer.Option(30, "--n-train", help="Training videos per primary task.")
SEED_OPT = typer.Option(0, "--seed", help="Seed of the split and of training.")

# Training options shared by train, benchmark, tune and transfer.
RELATED_OPT = typer.Option(
    True,
    "--related/--no-related",
    help="Add the related tasks' videos to training (sharing levels step and component).",
)
NO_CONSTRAINTS_OPT = typer.Option(
    False, "--no-constraints", help="Ignore the narration constraints at training."
)
HARD_CONSTRAINTS_OPT = typer.Option(
    False,
    "--hard-constraints",
    help="Forbid labels outside the narration intervals (default: the authors' λ penalty).",
)
PENALTY_OPT = typer.Option(1e4, "--penalty", help="λ of the constraint penalty.")
NO_STEM_OPT = typer.Option(
    False, "--no-stem", help="Use step words unstemmed (the authors' split on spaces)."
)
DEVICE_OPT = typer.Option("auto", "--device", help="auto, cpu or cuda.")
EPOCHS_INIT_OPT = typer.Option(
    None,
    "--epochs-init",
    help="Initialisation epochs (random constrained labels; "
    f"default {format_default(_HYPER.epochs_init)}).",
)
EPOCHS_OPT = typer.Option(
    None, "--epochs", help=f"Alternation epochs (default {format_default(_HYPER.epochs)})."
)
LR_OPT = typer.Option(
    None,
    "--lr",
    help=f"Adam learning rate, also δ of eq. A.14 (default {format_default(_HYPER.lr)}, chosen "
    "on validation; the authors' 1e-5 is for one video per step).",
)
DROPOUT_OPT = typer.Option(
    None,
    "--dropout",
    help=f"Input dropout probability (default {format_default(_HYPER.dropout)}, the authors').",
)
BATCH_OPT = typer.Option(
    None,
    "--batch-videos",
    help=f"Videos of one task per Adam step (default {format_default(_HYPER.batch_videos)}). 1 "
    "with --exact-a14 autograd: the authors' reference loop.",
)
A14_OPT = typer.Option(
    "closed",
    "--exact-a14",
    help="Y-update costs: closed (closed form) or autograd (double backward, as the authors).",
)


@dataclass(frozen=True)
class TrainingFlags:
    """The training flags of ``train``, ``benchmark``, ``tune`` and ``transfer`` as given
    (``None``: a hyper-parameter not given, the method's default applies)."""

    related: bool = True
    no_constraints: bool = False
    hard_constraints: bool = False
    penalty: float = 1e4
    no_stem: bool = False
    device: str = "auto"
    epochs_init: int | None = None
    epochs: int | None = None
    lr: float | None = None
    dropout: float | None = None
    batch_videos: int | None = None
    a14: str = "closed"

    def hyper(self) -> dict[str, float | int]:
        """The hyper-parameters given, by name, with their types (ints stay ints)."""
        given = {
            "epochs_init": self.epochs_init,
            "epochs": self.epochs,
            "lr": self.lr,
            "dropout": self.dropout,
            "batch_videos": self.batch_videos,
        }
        return {k: v for k, v in given.items() if v is not None}

    def method_options(self, seed: int, *, related: bool | None = None) -> MethodOptions:
        """The methods' options (checked here, once); ``related`` overrides the flag.

        Raises:
            typer.BadParameter: flags that exclude each other or an unknown value.
        """
        from instructvid.steps.benchmark.types import MethodOptions

        if self.no_constraints and self.hard_constraints:
            raise typer.BadParameter(
                "--no-constraints and --hard-constraints exclude each other",
                param_hint="--hard-constraints",
            )
        if self.a14 not in ("closed", "autograd"):
            raise typer.BadParameter("expected closed or autograd", param_hint="--exact-a14")
        if self.device not in ("auto", "cpu", "cuda"):
            raise typer.BadParameter("expected auto, cpu or cuda", param_hint="--device")
        constraints = (
            "none" if self.no_constraints else "hard" if self.hard_constraints else "penalty"
        )
        return MethodOptions(
            related=self.related if related is None else related,
            constraints=constraints,
            penalty=self.penalty,
            stem=not self.no_stem,
            hyper=self.hyper(),
            a14=self.a14,
            device=self.device,
            seed=seed,
        )


#: The default of a command's ``training`` parameter (replaced by :func:`training_options`).
TRAINING_OPTS = TrainingFlags()

#: The flags' command-line options, in ``--help`` order (the attributes of TrainingFlags).
_FLAG_OPTIONS: dict[str, tuple[Any, Any]] = {
    "related": (bool, RELATED_OPT),
    "no_constraints": (bool, NO_CONSTRAINTS_OPT),
    "hard_constraints": (bool, HARD_CONSTRAINTS_OPT),
    "penalty": (float, PENALTY_OPT),
    "no_stem": (bool, NO_STEM_OPT),
    "device": (str, DEVICE_OPT),
    "epochs_init": (int | None, EPOCHS_INIT_OPT),
    "epochs": (int | None, EPOCHS_OPT),
    "lr": (float | None, LR_OPT),
    "dropout": (float | None, DROPOUT_OPT),
    "batch_videos": (int | None, BATCH_OPT),
    "a14": (str, A14_OPT),
}
assert list(_FLAG_OPTIONS) == [f.name for f in fields(TrainingFlags)]

F = TypeVar("F", bound=Callable[..., Any])


def training_options(*, related: bool = True) -> Callable[[F], F]:
    """Give a command the training flags in place of its parameter ``training: TrainingFlags``.

    Args:
        related: offer ``--related/--no-related`` (``transfer`` trains on related tasks only and
            does not).
    """

    def decorate(command: F) -> F:
        signature = inspect.signature(command)
        names = [n for n in _FLAG_OPTIONS if related or n != "related"]
        flags = [
            inspect.Parameter(
                n,
                inspect.Parameter.KEYWORD_ONLY,
                default=_FLAG_OPTIONS[n][1],
                annotation=_FLAG_OPTIONS[n][0],
            )
            for n in names
        ]
        params: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.name == "training":
                params += flags
            else:
                params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            training = TrainingFlags(**{n: kwargs.pop(n) for n in names})
            return command(training=training, **kwargs)

        hints = _type_hints(command)
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **{k: v for k, v in hints.items() if k != "training"},
            **{n: _FLAG_OPTIONS[n][0] for n in names},
        }
        del wrapper.__wrapped__  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _type_hints(command: Callable[..., Any]) -> dict[str, Any]:
    """The resolved type hints of ``command`` (its annotations are strings)."""
    import typing

    return typing.get_type_hints(command)


def open_dataset(
    data: Path, release: Path | None, features: Path | None, constraints: Path | None
) -> CrossTaskData:
    """The CrossTask dataset of DATA (with its overrides); a format error ends with exit 2."""
    from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError

    try:
        return CrossTaskData.open(data, release=release, features=features, constraints=constraints)
    except CrossTaskFormatError as exc:
        raise fail(exc) from None
