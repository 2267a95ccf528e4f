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


def test_broken_cards_and_lists_do_not_hide_other_problems(tmp_path: Path) -> None:
    root = mini_dataset(tmp_path)
    release = root / "crosstask_release"
    # The card says 3 steps but lists 2: reported, and checked with the 2 listed steps.
    (release / "tasks_primary.txt").write_text("1\nMake Tea\nu\n3\nboil water,add tea\n")
    with open(release / "videos.csv", "a") as handle:
        handle.write("just-one-field\n1,a,u\n9,x,u\n9,y,u\n")
    (release / "annotations" / "1_a.csv").write_text("1,2.5,5.0\n3,1,2\n")
    problems = check_dataset(root)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert any("tasks_primary.txt, line 4" in e and "says it has 3" in e for e in errors)
    assert any("videos.csv, line 4" in e and "expected 'task_id,video_id,url'" in e for e in errors)
    assert any("videos.csv, line 5" in e and "listed twice" in e for e in errors)
    assert sum("task id 9 is not in any task-card file (2 videos)" in e for e in errors) == 1
    assert any("1_a.csv, line 2" in e and "outside 1..2" in e for e in errors)
    assert len(errors) == 5


def test_steps_check_cli_lists_problems_of_every_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from instructvid.cli.main import app

    root = mini_dataset(tmp_path)
    release = root / "crosstask_release"
    (release / "tasks_primary.txt").write_text("1\nMake Tea\nu\n3\nboil water,add tea\n")
    with open(release / "videos.csv", "a") as handle:
        handle.write("bad-line\n")
    (release / "annotations" / "1_a.csv").write_text("1,2.5,5.0\n7,1,2\n")
    result = CliRunner().invoke(app, ["steps", "check", str(root)])
    assert result.exit_code == 1, result.output
    assert "says it has 3 steps" in result.output
    assert "bad-line" in result.output
    assert "outside 1..2" in result.output
    assert "3 error(s)" in result.output
