"""The range / clips ablation sweep: one run per value, resumable, plot and tables."""

from __future__ import annotations

import json
from pathlib import Path

from instructvid.actionness.config import TrainConfig
from instructvid.actionness.eval.sets import coin_eval_set
from instructvid.actionness.sweep import run_sweep
from instructvid.actionness.video_selection import training_selection
from instructvid.synth.actionness import generate_actionness_world


def test_sweep_runs_each_value_once_and_resumes(tmp_path: Path) -> None:
    w = generate_actionness_world(tmp_path / "w", size="tiny", seed=1)
    sel = training_selection(w.features, annotations=w.annotations)
    es = coin_eval_set(w.annotations, features=w.features)
    base = TrainConfig(
        range_s=60, n_clips=5, epochs=2, batch_size=256, sequences_per_video=20, lr=3e-3
    )
    summary = run_sweep(
        sel.features, es, tmp_path / "s", ranges=(10, 60), clips=(3, 5), base=base, device="cpu"
    )
    pairs = [(r["range_s"], r["n_clips"]) for r in summary["runs"]]
    assert pairs == [(10, 5), (60, 5), (60, 3)]  # (60, 5) is shared by both sweeps
    assert all(0 < r["frame_ap"] <= 1 for r in summary["runs"])
    for name in ("sweep.json", "sweep.md", "sweep.png"):
        assert (tmp_path / "s" / name).is_file()
    assert (tmp_path / "s" / "runs" / "d10_M5" / "model.pt").is_file()
    # A second call reuses the finished runs (no retraining: same numbers, checkpoints untouched).
    stamp = (tmp_path / "s" / "runs" / "d10_M5" / "model.pt").stat().st_mtime_ns
    again = run_sweep(
        sel.features, es, tmp_path / "s", ranges=(10, 60), clips=(3, 5), base=base, device="cpu"
    )
    assert again["runs"] == summary["runs"]
    assert (tmp_path / "s" / "runs" / "d10_M5" / "model.pt").stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / "s" / "sweep.json").read_text())["metric"] == "frame_ap"
