"""A wikiHow stand-in: paragraph files (headline + sentences per step) made from task cards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["task_paragraphs"]

_STEP_SENTENCES = (
    "Make sure you {step} carefully.",
    "Now it is time to {step}.",
    "When you are ready, {step}.",
    "If you need to, {step} once more.",
    "Try to {verb} it evenly.",
    "Do not {verb} too fast.",
)
_OBJECT_SENTENCES = (
    "You will want to {verb} the {obj} slowly.",
    "Be careful with the {obj} at this point.",
    "The {obj} should be ready before you start.",
    "Keep the {obj} close at hand.",
    "Check the {obj} before moving on.",
)
_GENERIC_SENTENCES = (
    "This may take a few minutes.",
    "Take your time.",
    "It should look like the picture.",
    "Ask someone to help you if needed.",
)


def task_paragraphs(
    tasks: Iterable[Any], *, articles_per_task: int = 3, sentences: int = 4, random_state: int = 0
) -> str:
    """A paragraph file (see :func:`instructvid.text.paragraphs.read_paragraphs`) made from task cards.

    A stand-in for wikiHow when none is at hand (synthetic worlds, tests): per task,
    ``articles_per_task`` articles; per step a paragraph of its headline (the step text) and
    ``sentences`` more sentences from templates around the step's verb (first word) and objects
    (other words), sometimes a generic sentence shared by all paragraphs.

    Args:
        tasks: objects with ``title`` and ``steps`` (:class:`~instructvid.io.crosstask.Task`).
        articles_per_task: articles written per task (different sentence draws).
        sentences: sentences per paragraph besides the headline.
        random_state: seed.
    """
    rng = np.random.default_rng(random_state)
    articles = []
    for task in tasks:
        for _ in range(articles_per_task):
            lines = [f"# {task.title}"]
            for step in task.steps:
                words = step.split()
                verb, objects = words[0], [w for w in words[1:] if len(w) > 3]
                para = [step[0].upper() + step[1:] + "."]
                for _ in range(sentences):
                    if objects and rng.random() < 0.5:
                        t = _OBJECT_SENTENCES[rng.integers(len(_OBJECT_SENTENCES))]
                        obj = objects[rng.integers(len(objects))]
                    elif rng.random() < 0.8:
                        t = _STEP_SENTENCES[rng.integers(len(_STEP_SENTENCES))]
                        obj = ""
                    else:
                        t = _GENERIC_SENTENCES[rng.integers(len(_GENERIC_SENTENCES))]
                        obj = ""
                    para.append(t.format(step=step, verb=verb, obj=obj))
                lines.append(" ".join(para))
            articles.append("\n".join(lines))
    return "\n\n".join(articles) + "\n"
