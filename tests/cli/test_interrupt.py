"""Ctrl-C (SIGINT to the process group, as a terminal sends it): one line, exit 130, no
traceback, stopped within seconds, worker processes gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL = ("--width", "320", "--height", "240")
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "instructvid.cli.main", *args]


def _interrupt(
    cmd: list[str], ready: Callable[[], bool], *, timeout: float = 240
) -> tuple[int, str, float, int]:
    """Start ``cmd`` in its own process group, SIGINT the group once ``ready()``; returns
    (exit code, stdout + stderr, seconds from the signal to the exit, the group's id)."""
    proc = subprocess.Popen(
        cmd, env=ENV, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline, "the command never got going"
        time.sleep(0.2)
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    seconds = time.monotonic() - start
    return proc.returncode, out.decode(), seconds, proc.pid


def _live_group_members(pgid: int) -> list[str]:
    listing = subprocess.run(
        ["ps", "-o", "stat=,cmd=", "-g", str(pgid)], capture_output=True, text=True
    ).stdout
    return [line for line in listing.splitlines() if line.strip() and not line.startswith("Z")]


def _check_clean_stop(code: int, out: str, seconds: float, label: str) -> None:
    assert code == 130, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    lines = [line for line in out.splitlines() if "interrupted" in line]
    assert len(lines) == 1, out
    assert label in lines[0] and "rerun the same command to resume" in lines[0]
    assert seconds < 8, seconds


def test_native_code_is_stopped_within_the_grace(tmp_path: Path) -> None:
    # pbkdf2 runs for minutes in C without returning to the interpreter: no KeyboardInterrupt.
    script = (
        "import hashlib, sys\n"
        "from instructvid.interrupt import install_hard_stop\n"
        "install_hard_stop(lambda: 'interrupted native work — rerun the same command to resume')\n"
        "open(sys.argv[1], 'w').close()\n"
        "hashlib.pbkdf2_hmac('sha256', b'x', b'y', 10**9)\n"
    )
    flag = tmp_path / "started"
    code, out, seconds, _ = _interrupt([sys.executable, "-c", script, str(flag)], flag.exists)
    _check_clean_stop(code, out, seconds, "native work")


def test_synth_crosstask_interrupted(tmp_path: Path) -> None:
    out_dir = tmp_path / "W"
    cmd = _cli("synth", "crosstask", "--out", str(out_dir), "--size", "medium")
    code, out, seconds, _ = _interrupt(cmd, lambda: (out_dir / "crosstask_features").is_dir())
    _check_clean_stop(code, out, seconds, "instructvid synth crosstask")


def test_scene_reconstruct_workers_are_killed_not_waited_for(tmp_path: Path) -> None:
    from instructvid.demo.scene import unavailable

    if unavailable():
        pytest.skip(unavailable())
    scene = tmp_path / "scene"
    subprocess.run(
        _cli("synth", "scene", "--out", str(scene), "--videos", "2", "--frames", "16", *SMALL),
        env=ENV,
        check=True,
        capture_output=True,
        timeout=300,
    )
    videos = sorted(str(p) for p in (scene / "videos").iterdir() if p.is_dir())
    out_dir = tmp_path / "rec"
    cmd = _cli("scene", "reconstruct", *videos, "--out", str(out_dir), "--workers", "2")
    started = time.monotonic()

    def working() -> bool:  # the workers have started (and are importing or reconstructing)
        return out_dir.is_dir() and time.monotonic() - started > 6

    proc_code, out, seconds, _ = _interrupt(cmd, working)
    _check_clean_stop(proc_code, out, seconds, "instructvid scene reconstruct")
    assert not (out_dir / "reconstruct.json").exists()
