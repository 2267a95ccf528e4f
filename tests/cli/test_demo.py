"""``instructvid demo`` runs every pipeline on embedded synthetic data, reports, and resumes.

One demo run (seed 0, ~1.5 min of CPU) and a second run into the same folder are shared by the
tests (module fixture). The margins below are several times smaller than what seed 0 gives
(recall and frame AP as fractions): component 0.340 → component+actionness 0.445; frame AP
learned 0.575, trim0.3 0.274, chance 0.247; 3D: 10/10 frames registered per video, 3 edges;
grounding: PCK@30 cm 0.83 against chance 0.15 (24 held-out queries).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.demo import DEMO_METHODS, DEMO_PCK_TOLERANCES_CM, DEMO_SCENE, DEMO_SPLITS
from instructvid.demo.config import DEMO_GROUNDING_QUERIES
from instructvid.demo.pages import RUN_PAGES
from instructvid.io.crosstask import CrossTaskData

REPORTS = ("report.html", "report.md")


def _scene_available() -> bool:
    """The same condition as tests/scene/test_end_to_end.py: packages and headless EGL."""
    try:
        import moderngl
        import pycolmap  # noqa: F401

        moderngl.create_standalone_context(backend="egl").release()
    except Exception:
        return False
    return True


def _files(out: Path) -> dict[str, int]:
    """Modification time (ns) of every file under ``out`` but the two reports."""
    return {
        str(p.relative_to(out)): p.stat().st_mtime_ns
        for p in out.rglob("*")
        if p.is_file() and p.name not in REPORTS
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo") / "demo"
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--out", str(out)])
    assert first.exit_code == 0, first.output
    files = _files(out)
    second = runner.invoke(app, ["demo", "--out", str(out)])
    assert second.exit_code == 0, second.output
    return {
        "out": out,
        "first": first.output,
        "second": second.output,
        "files_before": files,
        "files_after": _files(out),
    }


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_report_and_console(demo: dict[str, Any]) -> None:
    out = demo["out"]
    assert f"report: {out / 'report.html'}" in demo["first"].replace("\n", "")
    for title in ("step localization recall", "actionness", "timings"):
        assert title in demo["first"]
    html = (out / "report.html").read_text()
    assert "<table>" in html and html.count("data:image/png;base64,") >= 3
    md = (out / "report.md").read_text()
    for heading in (
        "## Step localization",
        "## Actionness",
        "## 3D",
        "## 3D: grounding",
        "## Timings",
        "## Report pages",
    ):
        assert heading in md
    assert "component+actionness" in md and "learned" in md


def test_step_localization_ordering_and_actionness(demo: dict[str, Any]) -> None:
    bench = demo["out"] / "benchmark"
    recalls = {}
    for method in DEMO_METHODS:
        summary = _json(bench / f"{method}.json")
        assert summary["metric"] == "recall" and summary["n_splits"] == DEMO_SPLITS
        recalls[method] = summary["mean"]
    # The thesis's ordering (Table 3.3): supervised > component sharing > task-specific > uniform.
    assert recalls["supervised"] > recalls["component"] > recalls["task"] > recalls["uniform"]
    assert recalls["uniform"] > recalls["random"]
    # Eq. 4.4 (Table 4.2): the learned actionness helps the step models, α chosen on validation.
    for method, margin in (("component", 0.03), ("task", 0.03)):
        combined = _json(bench / f"{method}+actionness.json")
        assert combined["base_method"] == method
        assert combined["alpha"]["chosen_on"] == "validation"
        assert len(combined["alpha"]["per_split"]) == DEMO_SPLITS
        assert combined["mean"] > recalls[method] + margin, (method, combined["mean"])


def test_actionness_trained_on_related_videos_beats_baselines(demo: dict[str, Any]) -> None:
    out = demo["out"]
    data = CrossTaskData.open(out / "data")
    primary = {
        v for t in data.primary for v in [*data.videos.get(t, ()), *data.val_videos.get(t, ())]
    }
    (store,) = (out / "actionness" / "runs").glob("*/store/index.json")
    trained = set(_json(store)["video_ids"])
    assert trained and trained.isdisjoint(primary)
    assert {p.stem for p in (out / "actionness" / "scores").glob("*.npy")} == primary
    ev = out / "actionness" / "eval"
    ap = {m: _json(ev / f"{m}.json")["mean"] for m in ("chance", "trim0.3", "learned")}
    # Thesis Table 4.1's ordering: learned > chance trim@0.3 > chance.
    assert ap["learned"] > ap["trim0.3"] + 0.1 and ap["trim0.3"] > ap["chance"], ap
    auc = {m: _json(ev / f"{m}.proposals.json")["mean"] for m in ("chance", "learned")}
    assert auc["learned"] > auc["chance"] + 0.1, auc


def test_scene_registered_and_connected(demo: dict[str, Any]) -> None:
    out = demo["out"]
    md = (out / "report.md").read_text()
    if not _scene_available():
        assert "3D: left out" in md
        return
    inputs = _json(out / "scene" / "rec" / "reconstruct.json")["inputs"]
    assert len(inputs) == DEMO_SCENE["n_videos"]
    for name, summary in inputs.items():
        assert summary["registered_images"] == summary["frames"] == DEMO_SCENE["n_frames"], name
    graph = _json(out / "scene" / "graph.json")
    assert len(graph["nodes"]) == DEMO_SCENE["n_videos"]
    assert len(graph["components"]) == 1 and len(graph["components"][0]) == len(graph["nodes"])
    pck = _json(out / "scene" / "transfer" / "pck.json")
    at_10cm = pck["mean_curve"]["graph"][list(DEMO_PCK_TOLERANCES_CM).index(10.0)]
    assert pck["n_videos"] == DEMO_SCENE["n_videos"] - 1 and at_10cm >= 0.8, pck["mean_curve"]


def test_rerun_reuses_every_stage(demo: dict[str, Any]) -> None:
    # Nothing but the two reports is written again, and every stage says so.
    assert demo["files_after"] == demo["files_before"]
    n_stages = len(list((demo["out"] / "stages").glob("*.json")))  # one file per timed stage
    assert n_stages >= 7 and demo["first"].count(" computed ") == n_stages
    assert demo["second"].count("reused from an earlier run") == n_stages
    assert " computed " not in demo["second"]


def _images_decode(html: str) -> int:
    """How many embedded PNGs the page holds; each must be a PNG (signature and IHDR)."""
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    for data in images:
        raw = base64.b64decode(data, validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
    return len(images)


def test_grounding_beats_chance_and_is_reported(demo: dict[str, Any]) -> None:
    out = demo["out"]
    pck = _json(out / "grounding" / "eval" / "pck.json")
    assert pck["metric"] == "pck" and pck["queries"] > 10
    assert pck["mean"] == pytest.approx(pck["curve"][29])
    # Table 5.1's claim in the demo's world: the grounding beats a random model point at 30 cm.
    assert pck["mean"] > pck["chance"]["mean"] + 0.2, (pck["mean"], pck["chance"]["mean"])
    md = (out / "report.md").read_text()
    section = md.split("## 3D: grounding", 1)[1].split("\n## ", 1)[0]
    assert f"| {100 * pck['mean']:.1f} |" in section
    assert f"| {100 * pck['chance']['mean']:.1f} |" in section
    assert "Table 5.1" in section and "grounding/eval/pck.png" in section
    # the grounded queries: one row each, with a top voxel centre, a score and a distance in cm
    rows = [r for r in section.splitlines() if r.startswith("| car_")]
    assert len(rows) == DEMO_GROUNDING_QUERIES
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert re.fullmatch(r"\(-?\d+\.\d\d, -?\d+\.\d\d, -?\d+\.\d\d\)", cells[3]), row
        assert 0 < float(cells[4]) <= 1 and float(cells[5]) >= 0 and cells[6] in ("yes", "no")
    assert "3D grounding — PCK" in demo["first"] and "grounded queries" in demo["first"]
    html = (out / "report.html").read_text()
    assert "3D: grounding" in html and _images_decode(html) >= 4


def test_report_pages_of_the_output_folders(demo: dict[str, Any]) -> None:
    out = demo["out"]
    html = (out / "report.html").read_text()
    expected = [f for f, _ in RUN_PAGES if not f.startswith("scene") or _scene_available()]
    for folder in expected:
        page = out / folder / "report.html"
        assert f"<a href='{folder}/report.html'>" in html, folder
        text = page.read_text()
        assert text.startswith("<!doctype html>") and "Package versions" in text
        assert _images_decode(text) >= 1, folder
    bench = (out / "benchmark" / "report.html").read_text()
    component = _json(out / "benchmark" / "component.json")["mean"]
    assert f"<td>{100 * component:.1f}</td>" in bench
