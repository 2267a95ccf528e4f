"""Atomic writes leave the old file intact when writing fails."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from instructvid.io.atomic import atomic_open, atomic_save_npy, atomic_write_json, atomic_write_text


def test_failed_write_keeps_old_content_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(path) as handle:
        handle.write("new, half written")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_json_converts_numpy_and_nan(tmp_path: Path) -> None:
    path = atomic_write_json(
        tmp_path / "a" / "b.json", {"x": np.float32(0.5), "y": np.arange(2), "z": float("nan")}
    )
    assert json.loads(path.read_text()) == {"x": 0.5, "y": [0, 1], "z": None}


def test_skip_fsync_keeps_atomic_rename_but_skips_the_flush(tmp_path, monkeypatch):
    from instructvid.io import atomic

    calls: list[int] = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: calls.append(fd))
    atomic.atomic_write_text(tmp_path / "a.txt", "durable")
    assert len(calls) == 1
    with atomic.skip_fsync():
        atomic.atomic_write_text(tmp_path / "b.txt", "fast")
        atomic.atomic_save_npy(tmp_path / "c.npy", np.arange(3))
    assert len(calls) == 1
    assert (tmp_path / "b.txt").read_text() == "fast"
    assert np.load(tmp_path / "c.npy").tolist() == [0, 1, 2]
    assert not list(tmp_path.glob(".*.tmp"))
    atomic.atomic_write_text(tmp_path / "d.txt", "durable again")  # the flag is restored
    assert len(calls) == 2


def test_synthetic_world_syncs_once_instead_of_per_file(tmp_path, monkeypatch):
    from instructvid.io import atomic
    from instructvid.synth.crosstask import generate as synth

    fsyncs: list[int] = []
    syncs: list[int] = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: fsyncs.append(fd))
    monkeypatch.setattr(synth.os, "sync", lambda: syncs.append(1))
    out = synth.generate_crosstask(tmp_path / "w", size="tiny", seed=0)
    n_files = sum(1 for p in out.rglob("*") if p.is_file())
    assert n_files > 20
    # task cards and video lists (before the loop) and the marker (after the sync) stay durable
    assert len(fsyncs) <= 5
    assert syncs == [1]


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_written_files_get_the_umask_mode(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        paths = [
            atomic_write_text(tmp_path / "a.txt", "x"),
            atomic_write_json(tmp_path / "sub" / "b.json", {"a": 1}),
            atomic_save_npy(tmp_path / "c.npy", np.zeros(3)),
        ]
    finally:
        os.umask(old)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path


def test_cli_outputs_are_readable_like_any_other_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from instructvid.cli.main import app

    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            app, ["synth", "crosstask", "--out", str(tmp_path / "W"), "--size", "small"]
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "W").rglob("*") if p.is_file()}
    assert modes == {0o644}
