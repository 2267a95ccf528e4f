"""Small things a user sees: plain warnings, files named in errors, usage lines, the report."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.report.html import markdown_to_html

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_warnings_print_the_message_alone() -> None:
    script = (
        "import warnings\n"
        "from instructvid.progress import show_warnings_plainly\n"
        "show_warnings_plainly()\n"
        "class EmptySubtitlesWarning(UserWarning): pass\n"
        "warnings.warn('video x: no words', EmptySubtitlesWarning)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == "warning: video x: no words\n"


def test_license_is_an_spdx_string() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


def test_usage_lines_name_arguments_in_capitals() -> None:
    for command in (["steps", "benchmark"], ["steps", "check"], ["steps", "evaluate"]):
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0
        usage = next(line for line in result.output.splitlines() if "Usage:" in line)
        # typer 0.29 marks a required argument with braces: {DATA}, no longer {data}
        assert "{data}" not in usage and "{run}" not in usage, usage
        assert "DATA" in usage or "RUN" in usage, usage


def test_html_report_renders_backticks_as_code() -> None:
    page = markdown_to_html("Run `steps check DATA` first.\n\n| a | `b<c>` |\n|---|---|\n| 1 | 2 |")
    assert "<code>steps check DATA</code>" in page
    assert "<code>b&lt;c&gt;</code>" in page
    assert "`" not in page


def test_html_report_renders_relative_links_only() -> None:
    page = markdown_to_html(
        "- [the benchmark's page](benchmark/report.html)\n"
        "- [x](javascript:alert(1)) and [y\"'](a'b.html)\n\n![missing image](nowhere.png)"
    )
    assert "<a href='benchmark/report.html'>the benchmark&#x27;s page</a>" in page
    assert "javascript" in page and "<a href='javascript" not in page  # a scheme stays text
    assert "<a href='a&#x27;b.html'>" in page  # quotes cannot leave the attribute
    assert "![missing image](nowhere.png)" in page  # not an image here, not a link either


def test_nan_features_are_named_by_file(tmp_path: Path) -> None:
    from tests.worlds import random_world

    root = random_world(tmp_path / "data", n_videos=12, n_val=2)
    run = tmp_path / "RUN"
    args = ["steps", "train", str(root), "--out", str(run), "--n-train", "6", "--share", "task"]
    with pytest.warns(UserWarning):
        result = runner.invoke(app, [*args, "--epochs-init", "1", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    feats = np.load(root / "crosstask_features" / "10v00.npy")
    feats[3, 1] = np.nan
    bad = tmp_path / "bad.npy"
    np.save(bad, feats)
    result = runner.invoke(
        app, ["steps", "localize", str(run), "--features", str(bad), "--task", "10"]
    )
    assert result.exit_code == 2, result.output
    assert "bad.npy" in result.output and "scores contain NaN" not in result.output


def test_benchmark_progress_moves_over_all_methods() -> None:
    from instructvid.progress import across_methods

    seen: list[tuple[int, int]] = []
    progress = across_methods(lambda done, total: seen.append((done, total)), ["a", "b"])
    for method in ("a", "b"):
        for split in range(1, 4):
            progress(method, split, 3)
    assert seen == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]
