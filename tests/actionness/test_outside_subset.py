"""Proposals of videos outside the evaluated subset: official counting kept, a warning, and
--drop-outside giving the AR@AN of the file restricted to the subset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.io.proposals import VideoProposals, write_proposals

runner = CliRunner()


def _proposals(annotations: dict, rng: np.random.Generator) -> dict[str, VideoProposals]:
    out = {}
    for vid, entry in annotations["database"].items():
        duration = float(entry["duration"])
        starts = rng.uniform(0, duration * 0.8, 30)
        ends = np.minimum(starts + rng.uniform(2, 30, 30), duration)
        segs = np.stack([starts, ends], 1)
        truth = np.array([a["segment"] for a in entry["annotation"]], float).reshape(-1, 2)
        # random guesses first, the true segments last: recall grows with the number kept
        out[vid] = VideoProposals(np.concatenate([segs, truth]), np.linspace(1, 0, len(truth) + 30))
    return out


def test_proposals_outside_the_subset_warn_and_can_be_dropped(tmp_path: Path) -> None:
    world = tmp_path / "w"
    r = runner.invoke(app, ["actionness", "synth", "--out", str(world), "--size", "tiny"])
    assert r.exit_code == 0, r.output
    ann = world / "annotations.json"
    annotations = json.loads(ann.read_text())
    testing = {v for v, e in annotations["database"].items() if e["subset"] == "testing"}
    props = _proposals(annotations, np.random.default_rng(0))
    assert 0 < len(testing) < len(props)
    write_proposals(tmp_path / "all.json", props)
    write_proposals(tmp_path / "sub.json", {v: p for v, p in props.items() if v in testing})
    base = ["actionness", "evaluate", "--annotations", str(ann), "--baselines", ""]

    def ar100(out: Path, name: str) -> float:
        return json.loads((out / f"{name}.proposals.json").read_text())["ar_at"]["100"]

    r = runner.invoke(
        app, [*base, "--proposals", str(tmp_path / "all.json"), "--out", str(tmp_path / "o1")]
    )
    assert r.exit_code == 0, r.output
    n_out = len(props) - len(testing)
    assert f"of {n_out:,} videos outside the {len(testing):,} evaluated" in r.output
    assert "--drop-outside" in r.output
    r2 = runner.invoke(
        app, [*base, "--proposals", str(tmp_path / "sub.json"), "--out", str(tmp_path / "o2")]
    )
    assert r2.exit_code == 0 and "warning" not in r2.output
    o3 = str(tmp_path / "o3")
    r3 = runner.invoke(
        app,
        [*base, "--drop-outside", "--proposals", str(tmp_path / "all.json"), "--out", o3],
    )
    assert r3.exit_code == 0, r3.output
    assert "were dropped" in r3.output
    official = ar100(tmp_path / "o1", "all")
    restricted = ar100(tmp_path / "o2", "sub")
    assert ar100(Path(o3), "all") == restricted
    assert official < restricted  # the official count: more proposals per video, lower recall
