"""Options shared by the ``instructvid steps`` commands, and how they become library settings.

The DATA argument and its path overrides, the training flags of ``train``, ``benchmark``,
``tune`` and ``transfer`` (:func:`method_options` checks them once and builds the methods'
:class:`~instructvid.steps.benchmark.protocol.MethodOptions`), :func:`open_dataset` and
:func:`stop_cleanly` (exit 2 on bad settings, 130 on Ctrl-C).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from instructvid.progress import console

if TYPE_CHECKING:
    from instructvid.io.crosstask import CrossTaskData
    from instructvid.steps.benchmark.protocol import MethodOptions

__all__ = [
    "A14_OPT",
    "BATCH_OPT",
    "CONSTRAINTS_OPT",
    "DATA_ARG",
    "DEVICE_OPT",
    "DROPOUT_OPT",
    "EPOCHS_INIT_OPT",
    "EPOCHS_OPT",
    "FEATURES_OPT",
    "HARD_CONSTRAINTS_OPT",
    "LR_OPT",
    "NO_CONSTRAINTS_OPT",
    "NO_STEM_OPT",
    "PENALTY_OPT",
    "RELATED_OPT",
    "RELEASE_OPT",
    "method_options",
    "open_dataset",
    "stop_cleanly",
]

DATA_ARG = typer.Argument(
    ...,
    metavar="DATA",
    help="DATA folder holding crosstask_release/, crosstask_features/, crosstask_constraints/.",
)
RELEASE_OPT = typer.Option(None, "--release", help="Override DATA/crosstask_release.")
FEATURES_OPT = typer.Option(None, "--features", help="Override DATA/crosstask_features.")
CONSTRAINTS_OPT = typer.Option(None, "--constraints", help="Override DATA/crosstask_constraints.")

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
    None, "--epochs-init", help="Initialisation epochs (random constrained labels; default 30)."
)
EPOCHS_OPT = typer.Option(None, "--epochs", help="Alternation epochs (default 30).")
LR_OPT = typer.Option(
    None,
    "--lr",
    help="Adam learning rate, also δ of eq. A.14 (default 3e-4, chosen on validation; "
    "the authors' 1e-5 is for one video per step).",
)
DROPOUT_OPT = typer.Option(
    None, "--dropout", help="Input dropout probability (default 0.3, the authors')."
)
BATCH_OPT = typer.Option(
    None,
    "--batch-videos",
    help="Videos of one task per Adam step (default 32). 1 with --exact-a14 autograd: the "
    "authors' reference loop.",
)
A14_OPT = typer.Option(
    "closed",
    "--exact-a14",
    help="Y-update costs: closed (closed form) or autograd (double backward, as the authors).",
)


def method_options(
    *,
    related: bool,
    no_constraints: bool,
    hard_constraints: bool,
    penalty: float,
    no_stem: bool,
    device: str,
    seed: int,
    a14: str,
    epochs_init: int | None,
    epochs: int | None,
    lr: float | None,
    dropout: float | None,
    batch_videos: int | None,
) -> MethodOptions:
    """The methods' options from the shared command-line flags (checked here, once)."""
    from instructvid.steps.benchmark.protocol import MethodOptions

    hyper = {
        "epochs_init": epochs_init,
        "epochs": epochs,
        "lr": lr,
        "dropout": dropout,
        "batch_videos": batch_videos,
    }

    if no_constraints and hard_constraints:
        raise typer.BadParameter(
            "--no-constraints and --hard-constraints exclude each other",
            param_hint="--hard-constraints",
        )
    if a14 not in ("closed", "autograd"):
        raise typer.BadParameter("expected closed or autograd", param_hint="--exact-a14")
    if device not in ("auto", "cpu", "cuda"):
        raise typer.BadParameter("expected auto, cpu or cuda", param_hint="--device")
    return MethodOptions(
        related=related,
        constraints="none" if no_constraints else "hard" if hard_constraints else "penalty",
        penalty=penalty,
        stem=not no_stem,
        hyper={k: float(v) for k, v in hyper.items() if v is not None},
        a14=a14,
        device=device,
        seed=seed,
    )


@contextmanager
def stop_cleanly() -> Iterator[None]:
    """Bad settings end with exit 2 and their message; Ctrl-C with exit 130 and how to resume."""
    try:
        yield
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: rerun the same command to resume")
        raise typer.Exit(130) from None


def open_dataset(
    data: Path, release: Path | None, features: Path | None, constraints: Path | None
) -> CrossTaskData:
    """The CrossTask dataset of DATA (with its overrides); a format error ends with exit 2."""
    from instructvid.io.crosstask import CrossTaskData, CrossTaskFormatError

    try:
        return CrossTaskData.open(data, release=release, features=features, constraints=constraints)
    except CrossTaskFormatError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
