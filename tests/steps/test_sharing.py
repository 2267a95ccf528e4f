"""Gain from sharing and the per-component analysis on a hand-made benchmark result."""

from __future__ import annotations

import csv
import json

import pytest

from instructvid.report.sharing import write_sharing
from instructvid.steps.benchmark.sharing import (
    component_gains,
    gain_from_sharing,
    step_gains,
    step_recalls,
)

STEPS = {
    "a": ("stir mixture", "cut shelf"),
    "b": ("stir sauce", "pour milk"),
    "r": ("stir paint", "cut wood"),  # related task: never tested
}
TITLES = {"a": "Build Floating Shelves", "b": "Make Pancakes", "r": "Paint Wall"}


def _summary(method: str, splits: list[dict[str, tuple[list[int], list[int]]]]) -> dict:
    per_split = []
    for i, split in enumerate(splits):
        per_step = {t: {"matched": m, "total": n} for t, (m, n) in split.items()}
        per_task = {t: sum(m) / sum(n) for t, (m, n) in split.items()}
        per_split.append({"split": i, "per_task": per_task, "per_step": per_step})
    tasks = sorted(splits[0])
    per_task = {t: sum(s["per_task"][t] for s in per_split) / len(per_split) for t in tasks}
    return {
        "method": method,
        "per_task": per_task,
        "mean": sum(per_task.values()) / len(per_task),
        "per_split": per_split,
    }


# task-specific ("task"): a: stir 2/10, cut 5/10; b: stir 1/10, pour 4/10 (two splits of 5 each)
UNSHARED = _summary(
    "task",
    [
        {"a": ([1, 3], [5, 5]), "b": ([0, 2], [5, 5])},
        {"a": ([1, 2], [5, 5]), "b": ([1, 2], [5, 5])},
    ],
)
# component: a: stir 6/10, cut 3/10; b: stir 5/10, pour 4/10
SHARED = _summary(
    "component",
    [
        {"a": ([3, 1], [5, 5]), "b": ([2, 2], [5, 5])},
        {"a": ([3, 2], [5, 5]), "b": ([3, 2], [5, 5])},
    ],
)


def test_gain_row() -> None:
    gain = gain_from_sharing(SHARED, UNSHARED)
    assert gain["per_task"]["a"] == pytest.approx(0.45 - 0.35)
    assert gain["per_task"]["b"] == pytest.approx(0.45 - 0.25)
    assert gain["mean"] == pytest.approx(0.15)
    assert (gain["helped"], gain["hurt"], gain["n_tasks"]) == (2, 0, 2)
    worse = gain_from_sharing(UNSHARED, SHARED)
    assert (worse["helped"], worse["hurt"]) == (0, 2)
    with pytest.raises(ValueError, match="no task in common"):
        gain_from_sharing(SHARED, {"method": "x", "per_task": {"z": 0.1}})


def test_step_and_component_gains() -> None:
    rows = step_gains(step_recalls(SHARED), step_recalls(UNSHARED), STEPS)
    by_text = {r.text: r for r in rows}
    assert by_text["stir mixture"].unshared == pytest.approx(0.2)
    assert by_text["stir mixture"].shared == pytest.approx(0.6)
    assert by_text["cut shelf"].gain == pytest.approx(-0.2)
    assert by_text["pour milk"].occurrences == 10
    comps = {c.component: c for c in component_gains(rows, STEPS)}
    # stir: steps (a, stir mixture) +0.4 and (b, stir sauce) +0.4; in tasks a, b, r
    assert comps["stir"].gain == pytest.approx(0.4)
    assert (comps["stir"].n_steps, comps["stir"].n_tasks) == (2, 3)
    # cut: one tested step (cut shelf), but shared with the related task r
    assert comps["cut"].gain == pytest.approx(-0.2)
    assert comps["cut"].n_tasks == 2
    # shelf, mixtur, sauc, pour, milk occur in one task only: not shared
    assert set(comps) == {"stir", "cut"}
    ordered = component_gains(rows, STEPS)
    assert [c.component for c in ordered] == ["stir", "cut"]  # by decreasing gain


def test_missing_per_step_counts_are_reported() -> None:
    old = {**SHARED, "per_split": [{"split": 0, "per_task": {"a": 0.5}}]}
    with pytest.raises(ValueError, match="no per-step recall"):
        step_recalls(old)


def test_write_sharing(tmp_path) -> None:
    markdown = write_sharing({"task": UNSHARED, "component": SHARED}, STEPS, TITLES, tmp_path)
    assert markdown is not None
    assert "Sharing helps in 2 of 2 tasks" in markdown and "paper: 17 of 18" in markdown
    assert "+10.0" in markdown and "+20.0" in markdown  # per-task gains in points
    assert "+6.3" in markdown and "+8.7" in markdown  # the paper's (Shelves, Pancakes)
    payload = json.loads((tmp_path / "sharing.json").read_text())
    assert payload["gain"]["helped"] == 2
    assert {c["component"] for c in payload["components"]} == {"stir", "cut"}
    with open(tmp_path / "components.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert table[0]["component"] == "stir" and float(table[0]["gain"]) == pytest.approx(0.4)
    assert (tmp_path / "components.png").read_bytes()[:4] == b"\x89PNG"
    assert write_sharing({"task": UNSHARED}, STEPS, TITLES, tmp_path / "x") is None
