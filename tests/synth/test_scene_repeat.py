"""Same seed and settings → byte-identical renders, in another process and under load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _render(out: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    args = ["synth", "scene", "--out", str(out), "--videos", "3", "--seed", "1", "--frames", "2"]
    subprocess.run(
        [sys.executable, "-m", "instructvid.cli.main", *args, "--width", "64", "--height", "48"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_renders_identical_bytes_in_other_processes_and_under_load(
    tmp_path: Path,
) -> None:
    _render(tmp_path / "a", "1")
    burn = "import numpy as np\nwhile True: np.linalg.svd(np.random.rand(200, 200))"
    busy = [subprocess.Popen([sys.executable, "-c", burn]) for _ in range(2)]
    try:
        _render(tmp_path / "b", "2")  # other string hashing, the machine busy
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == sorted(b)
    assert sum(name.endswith(".png") for name in a) == 6
    differ = [name for name in a if a[name] != b[name]]
    assert differ == []
