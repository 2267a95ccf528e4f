"""A crafted dataset line cannot make a command write outside its output folder.

The ``videos.csv`` line of the report, ``87706,../../../../escaped_eRoro2TFF6B,https://…``, is
added to a small dataset; every command that reads it stops with a clear error naming
``videos.csv``, the line and the id, and the whole temporary folder is listed before and after:
nothing appears outside the command's output folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from instructvid.cli.main import app
from tests.worlds import random_world

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::instructvid.io.crosstask.SegmentClippedWarning")

CRAFTED_ID = "../../../../escaped_eRoro2TFF6B"
CRAFTED = f"87706,{CRAFTED_ID},https://www.youtube.com/watch?v=eRoro2TFF6B\n"


def _tree(folder: Path, skip: Path | None = None) -> list[str]:
    """Every path under ``folder`` except under ``skip``, relative and sorted."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if skip is None or not (p == skip or skip in p.parents)
    )


@pytest.fixture()
def crafted(tmp_path: Path) -> tuple[Path, int]:
    """A dataset deep enough for the crafted id to land inside ``tmp_path``; (DATA, its line)."""
    root = random_world(tmp_path / "d1" / "d2" / "d3" / "data", n_videos=6, n_val=1)
    videos = root / "crosstask_release" / "videos.csv"
    n_lines = len(videos.read_text().splitlines())
    with open(videos, "a", encoding="utf-8") as handle:
        handle.write(CRAFTED)
    return root, n_lines + 1


def _refused(result, line: int) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    text = " ".join(result.output.split())  # the console may wrap long paths
    assert "videos.csv" in text and f"line {line}" in text, result.output
    assert repr(CRAFTED_ID) in text, result.output


def test_check_lists_the_crafted_line_as_an_error(crafted: tuple[Path, int]) -> None:
    root, line = crafted
    result = runner.invoke(app, ["steps", "check", str(root)], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    _refused(result, line)
    assert "escaped" not in result.output.split("is not a valid id")[-1]  # no path built from it


@pytest.mark.parametrize(
    "command",
    [
        ["steps", "constraints", "{data}", "--subtitles", "{data}", "--out", "{out}"],
        ["steps", "benchmark", "{data}", "--out", "{out}", "--methods", "uniform", "--splits", "1"],
        ["steps", "train", "{data}", "--out", "{out}", "--n-train", "2", "--epochs", "1"],
    ],
    ids=["constraints", "benchmark", "train"],
)
def test_commands_stop_and_write_nothing_outside_their_output(
    crafted: tuple[Path, int], tmp_path: Path, command: list[str]
) -> None:
    root, line = crafted
    out = tmp_path / "X" / "b" / "c" / "OUT"
    out.parent.mkdir(parents=True)
    before = _tree(tmp_path, skip=out)
    args = [a.format(data=root, out=out) for a in command]
    result = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    _refused(result, line)
    assert _tree(tmp_path, skip=out) == before
    assert not list(tmp_path.rglob("escaped*"))


def _actionness_model(run: Path, dim: int) -> Path:
    from instructvid.actionness.config import TrainConfig
    from instructvid.actionness.model import ActionnessModel
    from instructvid.actionness.model_io import save_model

    run.mkdir(parents=True)
    return save_model(run / "model.pt", ActionnessModel(dim), TrainConfig())


@pytest.mark.parametrize("bad", ["../x", "a/b", "/tmp/abs_x", "..", "a\x00b", "..\\x"])
def test_actionness_score_refuses_a_traversal_id_in_the_video_list(
    tmp_path: Path, bad: str
) -> None:
    features = tmp_path / "in" / "features"
    features.mkdir(parents=True)
    np.save(features / "v1.npy", np.zeros((30, 8), dtype=np.float32))
    np.save(tmp_path / "in" / "x.npy", np.zeros((30, 8), dtype=np.float32))  # what ../x reaches
    model = _actionness_model(tmp_path / "run", 8)
    ids = tmp_path / "in" / "ids.txt"
    ids.write_text(f"v1\n{bad}\n", encoding="utf-8")
    out = tmp_path / "o" / "p" / "OUT"
    before = _tree(tmp_path)
    result = runner.invoke(
        app,
        ["actionness", "score", "--model", str(model), "--features", str(features),
         "--out", str(out), "--videos", str(ids)],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "ids.txt, line 2" in text and "not a valid id" in text
    assert _tree(tmp_path) == before  # stopped before scoring anything


def test_actionness_score_refuses_a_feature_symlink_out_of_its_folder(tmp_path: Path) -> None:
    features = tmp_path / "in" / "features"
    features.mkdir(parents=True)
    np.save(tmp_path / "secret.npy", np.zeros((30, 8), dtype=np.float32))
    os.symlink(tmp_path / "secret.npy", features / "v1.npy")
    model = _actionness_model(tmp_path / "run", 8)
    out = tmp_path / "OUT"
    before = _tree(tmp_path, skip=out)
    result = runner.invoke(
        app,
        ["actionness", "score", "--model", str(model), "--features", str(features),
         "--out", str(out)],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "leads outside" in " ".join(result.output.split())
    assert _tree(tmp_path, skip=out) == before
    assert not out.exists() or not list(out.iterdir())


def test_a_pickled_model_that_would_run_code_is_refused(tmp_path: Path) -> None:
    import torch

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (Path.touch, (marker,))

    torch.save({"dim": 8, "state_dict": {}, "config": {}, "meta": Payload()}, tmp_path / "m.pt")
    features = tmp_path / "features"
    features.mkdir()
    result = runner.invoke(
        app,
        ["actionness", "score", "--model", str(tmp_path / "m.pt"), "--features", str(features),
         "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "refused to load" in result.output
    assert not marker.exists()


@pytest.mark.parametrize("name", ["..\\x", "a b", "-\n-"])
def test_scene_reconstruct_refuses_an_input_folder_named_like_a_path(
    tmp_path: Path, name: str
) -> None:
    inputs = tmp_path / "in" / name
    inputs.mkdir(parents=True)
    (inputs / "0001.png").write_bytes(b"not really a png")
    out = tmp_path / "o" / "OUT"
    before = _tree(tmp_path, skip=out)
    result = runner.invoke(app, ["scene", "reconstruct", str(inputs), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "input name" in result.output and "not a valid id" in result.output
    assert _tree(tmp_path, skip=out) == before


def test_scene_reconstruct_names_a_dot_dot_input_after_the_real_folder(tmp_path: Path) -> None:
    from instructvid.scene.reconstruct import input_name

    (tmp_path / "scene_01" / "sub").mkdir(parents=True)
    assert input_name(tmp_path / "scene_01" / "sub" / "..") == "scene_01"
    assert input_name(tmp_path / "scene_01" / "video.mp4") == "video"


def test_actionness_proposals_refuse_a_score_symlink_out_of_its_folder(tmp_path: Path) -> None:
    scores = tmp_path / "scores"
    scores.mkdir()
    np.save(scores / "v1.npy", np.linspace(0, 1, 40))
    np.save(tmp_path / "secret.npy", np.linspace(0, 1, 40))
    os.symlink(tmp_path / "secret.npy", scores / "v2.npy")
    out = tmp_path / "p.json"
    args = ["actionness", "proposals", "--scores", str(scores), "--out", str(out)]
    result = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "leads outside" in " ".join(result.output.split())
    assert not out.exists()
    (scores / "v2.npy").unlink()
    assert runner.invoke(app, args).exit_code == 0 and out.is_file()
