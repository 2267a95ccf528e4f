"""``synth grounding`` → ``scene ground`` → ``scene query`` → ``scene evaluate``, end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.synth.grounding import generate_grounding

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("gw")
    generate_grounding(
        out, seed=0, scenes=2, videos=3, fps=2.0, width=64, height=48, surface_points=6000
    )
    return out


def _ground(world, run, *extra):
    scenes = [str(world / s / "recon") for s in ("car_0", "car_1")]
    return runner.invoke(
        app,
        [
            "scene",
            "ground",
            *scenes,
            "--subtitles",
            str(world),
            "--out",
            str(run),
            "--text",
            "tfidf",
            "--epochs",
            "40",
            "--batch-size",
            "16",
            "--n-voxels",
            "200",
            *extra,
        ],
    )


def test_ground_query_evaluate(world, tmp_path):
    run = tmp_path / "run"
    result = _ground(world, run)
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "ground.json").read_text())
    assert summary["total"]["pairs"] > 10 and summary["n_voxels"]["car_0"] <= 200
    result = runner.invoke(
        app, ["scene", "query", str(run), "pull out the dipstick", "--scene", "car_1", "--top", "3"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [r["rank"] for r in rows] == [1, 2, 3] and all(r["scene"] == "car_1" for r in rows)
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    overlays = tmp_path / "overlays"
    result = runner.invoke(
        app,
        [
            "scene",
            "query",
            str(run),
            "pull out the dipstick",
            "--scene",
            "car_1",
            "--top",
            "1",
            "--video",
            "car_1_v02",
            "--overlay",
            str(overlays),
            "--frames",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.strip().splitlines()[0])
    assert row["video"] == "car_1_v02" and len(row["centre_in_video"]) == 3
    assert len(list(overlays.glob("t*.png"))) == 2
    out = tmp_path / "eval"
    result = runner.invoke(
        app,
        [
            "scene",
            "evaluate",
            str(run),
            "--objects",
            str(world / "objects.json"),
            "--queries",
            str(world / "queries.csv"),
            "--out",
            str(out),
            "--gt-cameras",
            str(world),
        ],
    )
    assert result.exit_code == 0, result.output
    pck = json.loads((out / "pck.json").read_text())
    assert pck["metric"] == "pck" and pck["thresholds_cm"] == list(range(1, 101))
    assert len(pck["curve"]) == 100 and len(pck["chance"]["curve"]) == 100
    assert all(a <= b for a, b in zip(pck["curve"], pck["curve"][1:], strict=False))
    assert set(pck["per_object"]) == {
        f"{s}/{o}"
        for s in ("car_0", "car_1")
        for o in json.loads((world / "objects.json").read_text())[s]
    }
    assert pck["mean"] == pytest.approx(pck["curve"][29])
    assert pck["mean"] > pck["chance"]["mean"]  # tfidf on centre points beats chance
    assert (out / "pck.png").stat().st_size > 0 and "Table 5.1" in (out / "table.md").read_text()


def test_hand_points_and_similarity_refusal(world, tmp_path):
    result = _ground(
        world,
        tmp_path / "h",
        "--points",
        "hand",
        "--hands",
        str(world / "car_0" / "hands"),
        "--epochs",
        "1",
    )
    # only car_0's hand cues are in that folder: car_1 makes no hand pair
    assert result.exit_code == 0, result.output
    counts = json.loads((tmp_path / "h" / "ground.json").read_text())["counts"]
    assert counts["car_0"]["pairs"] > 0 and counts["car_1"]["pairs"] == 0
    assert counts["car_1"]["no_point"] == counts["car_1"]["segments"] - counts["car_1"]["no_frame"]
    result = _ground(world, tmp_path / "s", "--points", "similarity")
    assert result.exit_code == 2 and "similarity-model" in result.output
    result = _ground(world, tmp_path / "n", "--points", "hand")
    assert result.exit_code == 2 and "--hands" in result.output


def test_bad_queries_file_names_its_line(world, tmp_path):
    run = tmp_path / "run"
    assert _ground(world, run, "--epochs", "1").exit_code == 0
    bad = tmp_path / "q.csv"
    bad.write_text("scene,object,query\ncar_0,../x,remove it\n")
    result = runner.invoke(
        app,
        [
            "scene",
            "evaluate",
            str(run),
            "--objects",
            str(world / "objects.json"),
            "--queries",
            str(bad),
            "--out",
            str(tmp_path / "e"),
        ],
    )
    assert result.exit_code == 2 and "q.csv" in result.output and "line 2" in result.output
