"""Usage lines name required arguments as ``DATA``, not ``{DATA}``."""

from __future__ import annotations

from typer.testing import CliRunner

from instructvid.cli.main import app


def test_usage_line_reads_data_without_braces() -> None:
    result = CliRunner().invoke(app, ["steps", "benchmark", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert "DATA" in usage and "{" not in usage, usage
