"""Step components: stemmed words, the component vocabulary and the A matrices (thesis §3.4.1).

A task τ has K_τ ordered step texts (``"pour milk"``, ``"whisk mixture"``). The component model
scores step k of τ as the average of the scores of its components (eq. 3.1)::

    f_k^τ(x) = Σ_m A^τ_km g_m(x) / Σ_m A^τ_km

where ``A^τ ∈ {0, 1}^{K_τ × M}`` says which of the M components step k is made of. What a
"component" is depends on the **sharing level** (thesis Table 3.4; the authors' ``get_A``):

=================  ======================================  =================================
level              one classifier per                      authors' ``--share``
=================  ======================================  =================================
``component``      stemmed word, shared by all tasks       ``words``
``component-task`` stemmed word *within* a task            ``task_words``
``step``           unique (normalised) step text           ``steps``
``task``           (task, step) pair: task-specific steps  anything else
=================  ======================================  =================================

Words: a step text is lower-cased and split into word tokens (letters, digits, apostrophes;
:func:`tokenize`), each stemmed with the Snowball English stemmer (``"mixture"`` → ``"mixtur"``,
``"eggs"`` → ``"egg"``). Nothing is dropped: prepositions such as ``"into"`` are components too
(the thesis: "these components are typically objects, verbs and prepositions"). With
``stem=False`` words are used as they are, which for the release's lower-case step texts equals
the authors' ``step.split(' ')``. A word repeated within one step counts once. For the ``step``
and ``task`` levels the key of a step is its normalised text (its tokens, stemmed when ``stem``,
joined by single spaces), so that ``"add eggs"`` and ``"Add egg"`` are the same step.

The vocabulary is sorted (the authors use Python ``set`` order, which changes from run to run),
so component ``m`` is the same in every run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import snowballstemmer

__all__ = [
    "SHARE_LEVELS",
    "ComponentVocabulary",
    "EncodedSteps",
    "UnknownComponentsWarning",
    "normalise_step",
    "step_components",
    "tokenize",
]

#: The sharing levels, from most to least shared.
SHARE_LEVELS: tuple[str, ...] = ("component", "component-task", "step", "task")

#: The authors' names of the sharing levels (``--share`` of DmZhukov/CrossTask).
AUTHORS_SHARE_NAMES: dict[str, str] = {
    "component": "words",
    "component-task": "task_words",
    "step": "steps",
    "task": "(none)",
}

_TOKEN = re.compile(r"[a-z0-9']+")
_STEMMER = snowballstemmer.stemmer("english")


class UnknownComponentsWarning(UserWarning):
    """Some words (or steps) of a step list have no trained classifier."""


def tokenize(text: str, *, stem: bool = True) -> list[str]:
    """Lower-case word tokens of a step text, Snowball-stemmed when ``stem``.

    >>> tokenize("Pour the Mixture into cups")
    ['pour', 'the', 'mixtur', 'into', 'cup']
    """
    words = _TOKEN.findall(text.lower())
    return list(_STEMMER.stemWords(words)) if stem else words


def step_components(step: str, *, stem: bool = True) -> tuple[str, ...]:
    """The components (words) of one step text: tokens in order, without repeats."""
    out: list[str] = []
    for word in tokenize(step, stem=stem):
        if word not in out:
            out.append(word)
    return tuple(out)


def normalise_step(step: str, *, stem: bool = True) -> str:
    """The key of a step at the ``step``/``task`` levels: its tokens joined by spaces."""
    return " ".join(tokenize(step, stem=stem))


def _check_share(share: str) -> None:
    if share not in SHARE_LEVELS:
        raise ValueError(f"unknown sharing level {share!r}; expected one of {SHARE_LEVELS}")


def _step_keys(task_id: str, step: str, share: str, stem: bool) -> tuple[str, ...]:
    """Component keys of one step of one task at a sharing level."""
    if share == "component":
        return step_components(step, stem=stem)
    if share == "component-task":
        return tuple(f"{task_id}:{w}" for w in step_components(step, stem=stem))
    if share == "step":
        return (normalise_step(step, stem=stem),)
    return (f"{task_id}:{normalise_step(step, stem=stem)}",)


@dataclass(frozen=True)
class EncodedSteps:
    """A step list expressed in a vocabulary's components.

    Attributes:
        steps: the K step texts.
        matrix: (K, M) uint8, ``matrix[k, m] = 1`` iff step k contains known component m.
        unknown: ``{k: [word or step key, ...]}`` for steps with parts that have no classifier
            (left out of ``matrix``; a step with no known part has an all-zero row).
    """

    steps: tuple[str, ...]
    matrix: np.ndarray
    unknown: dict[int, list[str]] = field(default_factory=dict)

    @property
    def n_unscorable(self) -> int:
        """Number of steps with no known component at all."""
        return int((self.matrix.sum(axis=1) == 0).sum())

    def describe_unknown(self) -> str:
        """A one-line human-readable list of the unknown parts, per step."""
        return "; ".join(
            f"step {k + 1} {self.steps[k]!r}: {', '.join(repr(w) for w in words)}"
            for k, words in sorted(self.unknown.items())
        )


@dataclass(frozen=True)
class ComponentVocabulary:
    """The M components of a set of tasks at one sharing level, and the per-task A matrices.

    Build it with :meth:`build`; save it with :meth:`to_json` / :meth:`from_json`.

    Attributes:
        share: the sharing level (one of :data:`SHARE_LEVELS`).
        stem: whether words are stemmed.
        components: the M component keys, sorted.
        task_steps: ``{task_id: (step text, ...)}`` of the tasks the vocabulary was built from.
    """

    share: str
    stem: bool
    components: tuple[str, ...]
    task_steps: dict[str, tuple[str, ...]]
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_share(self.share)
        self._index.update({c: m for m, c in enumerate(self.components)})

    @classmethod
    def build(
        cls, tasks: Mapping[str, Sequence[str]], *, share: str = "component", stem: bool = True
    ) -> ComponentVocabulary:
        """The vocabulary of ``tasks`` (``{task_id: [step text, ...]}``) at level ``share``.

        Raises:
            ValueError: unknown ``share``, no task, or a step without any word.
        """
        _check_share(share)
        if not tasks:
            raise ValueError("cannot build a component vocabulary from zero tasks")
        keys: set[str] = set()
        for task_id, steps in tasks.items():
            for step in steps:
                step_keys = _step_keys(task_id, step, share, stem)
                if not step_keys or not any(step_keys):
                    raise ValueError(f"step {step!r} of task {task_id} has no word")
                keys.update(step_keys)
        return cls(
            share=share,
            stem=stem,
            components=tuple(sorted(keys)),
            task_steps={t: tuple(s) for t, s in tasks.items()},
        )

    @property
    def n_components(self) -> int:
        """M."""
        return len(self.components)

    def index(self, key: str) -> int:
        """Position m of a component key; ``KeyError`` if unknown."""
        return self._index[key]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def matrix(self, task_id: str) -> np.ndarray:
        """A^τ of a task the vocabulary was built from: (K, M) uint8 0/1 (METHOD §1.2)."""
        if task_id not in self.task_steps:
            raise KeyError(f"task {task_id!r} is not in the vocabulary")
        encoded = self.encode(self.task_steps[task_id], task_id=task_id)
        return encoded.matrix

    def normalised(self, task_id: str) -> np.ndarray:
        """The authors' A: (M, K) float32 = A^τᵀ with columns divided by their sums."""
        return normalise_columns(self.matrix(task_id).T)

    def encode(self, steps: Sequence[str], *, task_id: str | None = None) -> EncodedSteps:
        """Express a (possibly new) step list in this vocabulary's components.

        Args:
            steps: K step texts.
            task_id: the task they belong to. Needed at the ``component-task`` and ``task``
                levels, where classifiers are task-specific; a task that is not in the
                vocabulary has no classifier at those levels (every part is then unknown).

        Returns:
            :class:`EncodedSteps` with the (K, M) matrix and the unknown parts per step.
        """
        if not steps:
            raise ValueError("the step list is empty")
        owner = task_id if task_id is not None else "?"
        matrix = np.zeros((len(steps), self.n_components), dtype=np.uint8)
        unknown: dict[int, list[str]] = {}
        for k, step in enumerate(steps):
            keys = _step_keys(owner, step, self.share, self.stem)
            if not keys:
                raise ValueError(f"step {step!r} has no word")
            for key in keys:
                m = self._index.get(key)
                if m is None:
                    shown = (
                        key.split(":", 1)[1] if self.share in ("component-task", "task") else key
                    )
                    unknown.setdefault(k, []).append(shown)
                else:
                    matrix[k, m] = 1
        return EncodedSteps(steps=tuple(steps), matrix=matrix, unknown=unknown)

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable description (``from_json`` inverts it)."""
        return {
            "share": self.share,
            "stem": self.stem,
            "components": list(self.components),
            "task_steps": {t: list(s) for t, s in self.task_steps.items()},
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> ComponentVocabulary:
        return cls(
            share=str(payload["share"]),
            stem=bool(payload["stem"]),
            components=tuple(payload["components"]),
            task_steps={t: tuple(s) for t, s in payload["task_steps"].items()},
        )


def normalise_columns(a: np.ndarray) -> np.ndarray:
    """(M, K) float32 copy of a 0/1 matrix with each non-zero column divided by its sum.

    All-zero columns (steps without any known component) stay zero.
    """
    a = np.asarray(a, dtype=np.float32)
    sums = a.sum(axis=0, keepdims=True)
    return np.divide(a, sums, out=np.zeros_like(a), where=sums > 0)
