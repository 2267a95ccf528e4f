"""The synthetic actionness world: formats, determinism, structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.io.coin import read_coin
from instructvid.synth.actionness import SIZES, generate_actionness_world


def test_world_is_deterministic_and_well_formed(tmp_path: Path) -> None:
    a = generate_actionness_world(tmp_path / "a", size="tiny", seed=3)
    b = generate_actionness_world(tmp_path / "b", size="tiny", seed=3)
    c = generate_actionness_world(tmp_path / "c", size="tiny", seed=4)
    assert a.annotations.read_bytes() == b.annotations.read_bytes()
    names = sorted(p.name for p in a.features.glob("*.npy"))
    cfg = SIZES["tiny"]
    assert len(names) == cfg.n_tasks * cfg.videos_per_task
    assert all((a.features / n).read_bytes() == (b.features / n).read_bytes() for n in names)
    assert (a.features / names[0]).read_bytes() != (c.features / names[0]).read_bytes()
    videos = read_coin(a.annotations)
    assert {v.subset for v in videos.values()} == {"training", "testing"}
    for vid, v in videos.items():
        x = np.load(a.features / f"{vid}.npy")
        assert x.shape == (int(v.duration), cfg.dim) and x.dtype == np.float32
        seg = v.segment_array()
        assert cfg.steps[0] <= len(seg) <= cfg.steps[1]
        assert (np.diff(seg[:, 0]) > 0).all()  # steps in order
        assert seg[0, 0] >= cfg.intro[0] and seg[-1, 1] <= v.duration - cfg.intro[0]  # intro/outro
        assert v.extra["domain"].startswith("Domain") and v.cls.startswith("Task")
    # Re-running resumes without rewriting finished videos.
    before = (a.features / names[0]).stat().st_mtime_ns
    generate_actionness_world(tmp_path / "a", size="tiny", seed=3)
    assert (a.features / names[0]).stat().st_mtime_ns == before


def test_intros_and_outros_share_an_appearance(tmp_path: Path) -> None:
    w = generate_actionness_world(tmp_path, size="tiny", seed=0)
    videos = read_coin(w.annotations)
    firsts, lasts, middles = [], [], []
    for vid in list(videos)[:12]:
        x = np.load(w.features / f"{vid}.npy")
        firsts.append(x[:10].mean(0))
        lasts.append(x[-10:].mean(0))
        middles.append(x[len(x) // 2 - 5 : len(x) // 2 + 5].mean(0))
    spread = lambda a: np.linalg.norm(np.std(np.stack(a), axis=0))  # noqa: E731
    assert spread(firsts) < spread(middles) and spread(lasts) < spread(middles)
    assert np.linalg.norm(np.mean(firsts, 0) - np.mean(lasts, 0)) > 2.0
