"""``instructvid demo`` runs every step-localization method on a synthetic world and reports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.demo import DEMO_METHODS, DEMO_SPLITS


def test_demo_writes_report_and_prints_table(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.output.replace("\n", "")
    html = (out / "report.html").read_text()
    assert "<table>" in html and "data:image/png;base64," in html
    recalls = {}
    for method in DEMO_METHODS:
        summary = json.loads((out / "benchmark" / f"{method}.json").read_text())
        assert summary["metric"] == "recall" and summary["n_splits"] == DEMO_SPLITS
        recalls[method] = summary["mean"]
    # The thesis's ordering (Table 3.3): supervised > component sharing > task-specific > uniform.
    assert recalls["supervised"] > recalls["component"] > recalls["task"] > recalls["uniform"]
    assert recalls["uniform"] > recalls["random"]
