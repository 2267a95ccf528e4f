"""Each family of writers that names a file from data refuses a name leaving its folder.

Constraint matches and CSVs, step localisations, actionness reports, feature lookups,
reconstruction summaries: a traversal name is refused before anything is read or written, or
(when a prefix such as ``<task>_`` keeps it inside, ``1_../x.csv``) stays inside the folder; the
temporary folder (the parent of the output folder) is listed before and after.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.errors import FormatError
from instructvid.io.ids import UnsafePathError

TRAVERSAL = ["../x", "/tmp/abs_x", "..", "a\x00b", "..\\x", "a/../../x"]


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_step_run_outputs_stay_in_the_run(tmp_path: Path, bad: str) -> None:
    from instructvid.steps.benchmark.runs import RunLayout

    run = tmp_path / "run"
    before = _tree(tmp_path)
    try:
        path = RunLayout(run).localize(bad)
    except UnsafePathError:
        path = None
    if bad in ("../x", "/tmp/abs_x", "a/../../x"):
        assert path is None
    if path is not None:  # "..": the file "....json" of the run
        assert path.resolve().is_relative_to(run.resolve() / "localize")
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_constraint_files_stay_in_their_folder(tmp_path: Path, bad: str) -> None:
    from instructvid.steps.narration.evaluation import _read_folder

    (tmp_path / "x.csv").write_text("1,0,1\n")  # what a traversal would read
    out = tmp_path / "out"
    out.mkdir()
    before = _tree(tmp_path)
    try:
        assert _read_folder(out, "1", bad, 2) == []  # the file outside is not read
    except UnsafePathError:
        pass
    if bad.startswith("a/") or bad in ("a\x00b", "..\\x"):
        with pytest.raises(UnsafePathError):
            _read_folder(out, "1", bad, 2)
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_actionness_reports_stay_in_their_folder(tmp_path: Path, bad: str) -> None:
    from instructvid.actionness.eval.report import write_frame_ap_json
    from instructvid.actionness.eval.sets import EvalSet, MethodResult
    from instructvid.metrics.actionness import FrameAP

    out = tmp_path / "out"
    out.mkdir()
    before = _tree(tmp_path)
    result = MethodResult(bad, frame=FrameAP(0.5, 0.5, {}, 1, 1, 0.5))
    try:
        write_frame_ap_json(out, result, EvalSet({}, {}, "test"))
    except UnsafePathError:
        assert bad != ".."
    else:
        assert bad == ".." and (out / "...json").is_file()  # a plain file name inside
    assert _tree(tmp_path) == before + (["out/...json"] if bad == ".." else [])


def test_a_reconstruction_summary_cannot_point_outside_its_folder(tmp_path: Path) -> None:
    from instructvid.scene.reconstruct import load_models

    rec = tmp_path / "rec"
    (rec / "models" / "v1").mkdir(parents=True)
    summary = {
        "name": "v1",
        "image_dir": str(tmp_path),
        "features": "../../secret.npz",
        "models": [{"id": "v1/0", "path": "models/v1/0", "images": 3, "points": 10}],
    }
    (rec / "models" / "v1" / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(UnsafePathError, match="leads outside"):
        load_models(rec)
    summary |= {"features": "features/v1.npz", "name": "../v1"}
    (rec / "models" / "v1" / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(FormatError, match=r"summary\.json: input name"):
        load_models(rec)
    summary["name"] = "v1"
    (rec / "models" / "v1" / "summary.json").write_text(json.dumps(summary))
    assert [m.path for m in load_models(rec)] == [rec / "models" / "v1" / "0"]


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_feature_lookups_of_actionness_sets_stay_in_their_folder(tmp_path: Path, bad: str) -> None:
    from instructvid.actionness.eval.sets import _features_in

    features = tmp_path / "features"
    features.mkdir()
    np.save(tmp_path / "x.npy", np.zeros(3))
    np.save(features / "ok.npy", np.zeros(3))
    try:
        found = _features_in(features, ["ok", bad])
    except UnsafePathError:
        assert bad != ".."
    else:
        assert bad == ".." and found == {"ok": features / "ok.npy"}
