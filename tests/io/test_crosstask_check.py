"""``check_dataset`` lists every problem of a dataset, not only the first."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.io.crosstask import write_features
from instructvid.io.crosstask_check import check_dataset
from tests.worlds import mini_dataset


def test_clean_dataset_has_no_errors(tmp_path: Path) -> None:
    problems = check_dataset(mini_dataset(tmp_path))
    assert [p for p in problems if p.severity == "error"] == []
    # video b (a validation video of a primary task) has no annotation: a warning
    assert any("no annotation" in p.message for p in problems)


def test_every_problem_is_listed(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path)
    release = root / "crosstask_release"
    (release / "annotations" / "1_a.csv").write_text("1,2.5,5.0\n3,1,2\n2,9,8\n2,18.5,25\n")
    bad = np.zeros((20, 4), dtype=np.float32)
    bad[7, 2] = np.inf
    write_features(root / "crosstask_features" / "c.npy", bad)
    (root / "crosstask_features" / "b.npy").unlink()
    with open(release / "videos_val.csv", "a") as handle:
        handle.write("1,zzz,u\n")
    problems = check_dataset(root)
    errors = [str(p) for p in problems if p.severity == "error"]
    warnings = [str(p) for p in problems if p.severity == "warning"]
    assert any("1_a.csv, line 2" in e and "outside 1..2" in e for e in errors)
    assert any("1_a.csv, line 3" in e and "after end" in e for e in errors)
    assert any("c.npy" in e and "feature row 7" in e for e in errors)
    assert any("b.npy" in e and "not found" in e for e in errors)
    assert any("zzz" in e and "not in videos.csv" in e for e in errors)
    assert any("1_a.csv, line 4" in w and "clipped" in w for w in warnings)
    assert len(errors) == 5


def test_broken_cards_stop_the_check_with_one_clear_error(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path)
    (root / "crosstask_release" / "tasks_primary.txt").write_text("1\nMake Tea\nu\n3\na,b\n")
    problems = check_dataset(root)
    assert len(problems) == 1
    assert "says it has 3 steps but lists 2" in problems[0].message
    assert problems[0].line == 4
