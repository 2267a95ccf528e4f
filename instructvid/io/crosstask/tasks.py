"""CrossTask task cards (``tasks_primary.txt``, ``tasks_related.txt``): read and write.

A task card is five lines followed by a blank line::

    23521
    Make Jello Shots
    http://www.wikihow.com/Make-Jello-Shots
    6
    pour water,pour juice,pour jello powder,pour alcohol,stir mixture,pour mixture into cup
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from instructvid.io.atomic import atomic_write_text
from instructvid.io.crosstask.errors import CrossTaskFormatError, read_lines
from instructvid.io.problems import Problems
from instructvid.types import PathLike

__all__ = ["Task", "read_task_cards", "write_task_cards"]


@dataclass(frozen=True)
class Task:
    """A task card: an ordered list of step descriptions.

    Attributes:
        task_id: the task's identifier (e.g. ``"23521"``).
        title: human-readable title (``"Make Jello Shots"``).
        url: the wikiHow page the steps come from.
        steps: the K ordered step texts (``"pour water"``, ...).
    """

    task_id: str
    title: str
    url: str
    steps: tuple[str, ...]

    @property
    def n_steps(self) -> int:
        """K, the number of steps."""
        return len(self.steps)


def read_task_cards(
    path: PathLike, *, errors: list[CrossTaskFormatError] | None = None
) -> dict[str, Task]:
    """Read a task-card file (``tasks_primary.txt`` / ``tasks_related.txt``).

    Args:
        errors: when given, problems are appended to it and reading goes on (``steps check``
            lists them all): a card whose count disagrees with its steps keeps the listed
            steps, empty steps are dropped, a repeated id keeps the first card, a card without
            steps is skipped, a missing or unreadable file reads as no cards.

    Returns:
        ``{task_id: Task}`` in file order.

    Raises:
        CrossTaskFormatError: (without ``errors``) missing file, truncated card, a step count
            that is not an integer or disagrees with the step list, an empty step, or a
            duplicated task id.
    """
    path = Path(path)
    problems = Problems(errors, CrossTaskFormatError)
    try:
        lines = read_lines(path)
    except CrossTaskFormatError as exc:
        problems.add(exc)
        lines = []
    tasks: dict[str, Task] = {}
    i = 0
    n = len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        if i + 5 > n:
            problems.report(
                path,
                "truncated task card: expected 5 lines (id, title, url, number of steps, "
                f"comma-separated steps), found {n - i}",
                line=i + 1,
            )
            break
        task_id, title, url, count_text, steps_text = (s.strip() for s in lines[i : i + 5])
        valid = problems.check_id(task_id, path=path, line=i + 1, what="task id")
        all_steps = tuple(s.strip() for s in steps_text.split(","))
        steps = tuple(s for s in all_steps if s)
        try:
            count: int | None = int(count_text)
        except ValueError:
            count = None
            problems.report(
                path, f"expected the number of steps (an integer), found {count_text!r}", line=i + 4
            )
        if len(steps) < len(all_steps):
            problems.report(path, f"empty step description in {steps_text!r}", line=i + 5)
        if count is not None and count != len(all_steps):
            problems.report(
                path,
                f"task {task_id} says it has {count} steps but lists {len(all_steps)}: "
                f"{steps_text!r}",
                line=i + 4,
            )
        if not steps or count == 0:
            problems.report(path, f"task {task_id} has no steps", line=i + 4)
        elif task_id in tasks:
            problems.report(path, f"task id {task_id} appears twice", line=i + 1)
        elif valid:
            tasks[task_id] = Task(task_id=task_id, title=title, url=url, steps=steps)
        i += 5
        if i < n and lines[i].strip():
            problems.report(
                path, f"expected a blank line after the card of task {task_id}", line=i + 1
            )
    return tasks


def write_task_cards(path: PathLike, tasks: Iterable[Task]) -> Path:
    """Write task cards in the release format (atomically); returns ``path``."""
    blocks = []
    for task in tasks:
        for step in task.steps:
            if "," in step or "\n" in step:
                raise ValueError(
                    f"step text {step!r} of task {task.task_id} contains ',' or newline"
                )
        blocks.append(
            f"{task.task_id}\n{task.title}\n{task.url}\n{task.n_steps}\n{','.join(task.steps)}\n\n"
        )
    return atomic_write_text(path, "".join(blocks))
