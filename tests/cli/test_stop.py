"""Commands stop on a user's mistake with exit 2 and the message alone (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.cli.stop import fail, stop_cleanly

runner = CliRunner()


@pytest.mark.parametrize(
    ("error", "also", "code"),
    [
        (ValueError("bad value"), (), 2),
        (FileNotFoundError("missing.json"), (FileNotFoundError,), 2),
        (KeyboardInterrupt(), (), 130),
    ],
)
def test_stop_cleanly_turns_user_errors_into_exits(
    error: BaseException, also: tuple[type[Exception], ...], code: int
) -> None:
    with pytest.raises(typer.Exit) as info, stop_cleanly("work", also=also):
        raise error
    assert info.value.exit_code == code


def test_stop_cleanly_lets_other_errors_through() -> None:
    with pytest.raises(FileNotFoundError), stop_cleanly("work"):
        raise FileNotFoundError("not a user error for this command")
    assert fail("x").exit_code == 2


def _assert_clean_stop(args: list[str], *needles: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output


def test_scene_and_synth_commands_stop_cleanly(tmp_path: Path) -> None:
    _assert_clean_stop(
        ["synth", "scene", "--out", str(tmp_path / "s"), "--videos", "0"], "n_videos >= 1"
    )
    _assert_clean_stop(
        ["synth", "actionness", "--out", str(tmp_path / "a"), "--size", "huge"], "unknown size"
    )
    _assert_clean_stop(
        ["synth", "crosstask", "--out", str(tmp_path / "c"), "--size", "huge"], "huge"
    )
    _assert_clean_stop(["scene", "align", str(tmp_path / "nothing"), "--out", str(tmp_path / "g")])
    _assert_clean_stop(
        ["scene", "reconstruct", str(tmp_path / "nothing"), "--out", str(tmp_path / "r")]
    )


def test_actionness_commands_stop_cleanly(tmp_path: Path) -> None:
    _assert_clean_stop(
        [
            "actionness",
            "score",
            "--model",
            str(tmp_path / "run"),
            "--features",
            str(tmp_path),
            "--out",
            str(tmp_path / "s"),
        ],
        "run",
    )
    _assert_clean_stop(
        [
            "actionness",
            "proposals",
            "--scores",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "p"),
        ]
    )


def test_the_synthetic_scene_is_written_by_synth_scene_only() -> None:
    assert runner.invoke(app, ["synth", "scene", "--help"]).exit_code == 0
    gone = runner.invoke(app, ["scene", "synth", "--help"])
    assert gone.exit_code == 2 and "No such command" in gone.output


@pytest.mark.parametrize("command", ["videos", "grounding", "crosstask", "scene"])
def test_an_output_folder_under_a_file_is_a_clean_stop(tmp_path: Path, command: str) -> None:
    """``--out afile.txt/x``: exit 2 naming the path the file system refused, no traceback."""
    (tmp_path / "afile.txt").write_text("not a folder\n")
    _assert_clean_stop(
        ["synth", command, "--out", str(tmp_path / "afile.txt" / "x")],
        "afile.txt",
        "Not a directory",
    )


def test_other_os_errors_are_not_dressed_as_user_errors() -> None:
    with pytest.raises(ConnectionResetError), stop_cleanly("work"):
        raise ConnectionResetError("a fault of the program or the network, with its traceback")
