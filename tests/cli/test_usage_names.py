"""Usage lines name arguments in capitals: ``DATA``, not ``{DATA}`` nor ``data``."""

from __future__ import annotations

from typer.testing import CliRunner

from instructvid.cli.main import app


def test_usage_line_reads_data_without_braces() -> None:
    result = CliRunner().invoke(app, ["steps", "benchmark", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert "DATA" in usage and "{" not in usage, usage


def _commands(command, path=()):
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from _commands(sub, (*path, name))


def test_every_usage_line_names_its_arguments_in_capitals() -> None:
    import typer

    for path, command in _commands(typer.main.get_command(app)):
        arguments = [p for p in command.params if isinstance(p, typer.core.TyperArgument)]
        if not arguments:
            continue
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        usage = next(line for line in result.output.splitlines() if "Usage:" in line)
        for argument in arguments:
            shown = argument.metavar or argument.name.upper()
            assert shown.isupper() and shown.split("...")[0] in usage, (path, usage)
            assert argument.name not in usage.split("[OPTIONS]")[1], (path, usage)
