"""The benchmark's methods by name: one frozen :class:`MethodSpec` each, built in one place.

:func:`default_registry` returns a fresh :class:`MethodRegistry` of the built-in methods
(``uniform``, ``random``, the trained ones of :mod:`~instructvid.steps.benchmark.methods` and
``alayrac``). The benchmark functions take a registry as an argument; more methods (external
step scores, :func:`~instructvid.steps.benchmark.external.with_step_scores`) are added to a copy
(:meth:`MethodRegistry.added`), never to a global, and nothing registers itself on import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from instructvid.steps.benchmark import methods
from instructvid.steps.benchmark.alayrac import AlayracSettings
from instructvid.steps.benchmark.types import Fit, Label, Method
from instructvid.steps.training.settings import StepHyperParameters

__all__ = ["Fit", "Label", "MethodRegistry", "MethodSpec", "default_registry"]


@dataclass(frozen=True)
class MethodSpec:
    """One benchmark method.

    Attributes:
        name: the name of ``--methods`` and of the result files.
        predict: ``(data, split, rng, options) -> Predictions`` on ``split.test`` (and the
            step scores of ``split.val`` when it is not empty and ``scores``).
        options: the :class:`~instructvid.steps.benchmark.types.MethodOptions` fields its
            results depend on (part of the cache key of its per-split results).
        scores: it returns step scores (it gets a ``+actionness`` row; mAP).
        settings: more JSON settings of its cache key (e.g. a fingerprint of the files it
            reads), called once per benchmark; ``None`` = none.
        fit: trained methods: trains on a training set (see :class:`Fit`); ``None`` otherwise.
        label: trained methods: labels and scores videos with what ``fit`` returned.
        related: its training set holds the related tasks' videos unless
            ``MethodOptions.related`` is false.
        hyper: its hyper-parameter defaults (``MethodOptions.hyper`` overrides them).
        external: added from outside the package (step scores read from files).
    """

    name: str
    predict: Method
    options: tuple[str, ...] = ()
    scores: bool = True
    settings: Callable[[], dict[str, Any]] | None = None
    fit: Fit | None = None
    label: Label | None = None
    related: bool = False
    hyper: StepHyperParameters | AlayracSettings | None = None
    external: bool = False


@dataclass(frozen=True)
class MethodRegistry:
    """Methods by name (read-only; :meth:`added` returns a copy with one more)."""

    specs: Mapping[str, MethodSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "specs", MappingProxyType(dict(self.specs)))

    def __getitem__(self, name: str) -> MethodSpec:
        if name not in self.specs:
            raise KeyError(f"unknown method {name!r}; known: {', '.join(sorted(self.specs))}")
        return self.specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __iter__(self) -> Iterator[str]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def names(self) -> list[str]:
        """The method names in registration order."""
        return list(self.specs)

    def scoring(self) -> set[str]:
        """Names of the methods that return step scores."""
        return {name for name, spec in self.specs.items() if spec.scores}

    def trained(self) -> list[str]:
        """Names of the methods that train (have a ``fit``), in registration order."""
        return [name for name, spec in self.specs.items() if spec.fit is not None]

    def added(self, spec: MethodSpec, *, replace: bool = False) -> MethodRegistry:
        """A copy with ``spec`` (replacing a method of that name only when ``replace``).

        Raises:
            ValueError: the name is taken and ``replace`` is false.
        """
        if spec.name in self.specs and not replace:
            raise ValueError(f"method {spec.name!r} is already in the registry")
        return MethodRegistry({**self.specs, spec.name: spec})


def default_registry() -> MethodRegistry:
    """The built-in methods, in the order of ``steps benchmark --help``'s list."""
    specs = [
        MethodSpec("uniform", methods.predict_uniform, scores=False),
        MethodSpec("random", methods.predict_random),
    ]
    for name, trained in methods.TRAINED_METHODS.items():
        keys = methods.LEARNER_OPTIONS + (("related",) if trained.related else ())
        if trained.supervised:
            keys = ("stem", "hyper", "seed")
        specs.append(
            MethodSpec(
                name,
                methods.trained_predict(name, trained),
                options=keys,
                fit=methods.trained_fit(trained),
                label=methods.label_step_model,
                related=trained.related,
                hyper=trained.hyper,
            )
        )
    specs.append(
        MethodSpec(
            "alayrac",
            methods.predict_alayrac_split,
            options=("constraints", "penalty", "hyper", "seed"),
            fit=methods.fit_alayrac_method,
            label=methods.label_alayrac,
            hyper=AlayracSettings(),
        )
    )
    for name, annotated in (("richard18", False), ("richard18-annotated", True)):
        specs.append(
            MethodSpec(
                name,
                methods.predict_richard18_split(annotated),
                options=("hyper", "seed"),
                fit=methods.fit_richard18_method(annotated),
                label=methods.label_richard18,
            )
        )
    return MethodRegistry({spec.name: spec for spec in specs})
