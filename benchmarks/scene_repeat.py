"""The demo's 3D stage twice, in fresh processes: are the numbers identical?

Usage: ``python benchmarks/scene_repeat.py OUT [--busy N]``. Runs the demo's scene stage
(render → reconstruct → align → keypoint transfer, the demo's settings, scene seed 1) in two
child processes with different ``PYTHONHASHSEED``; the second one while ``N`` CPU burners run
(default 2). Prints each run's 3D points per video, PCK curves and seconds, and whether the
two runs' numbers and rendered frames are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

_CHILD = """
import json, sys
from pathlib import Path
from instructvid.demo import scene
out = Path(sys.argv[1])
quiet = lambda done, total: None
r = scene.render(out / "scene", seed=1, progress=quiet)
rec = scene.reconstruct_videos(out / "scene", out / "rec", progress=quiet)
g = scene.align_models(out / "rec", out / "graph.json", progress=quiet)
t = scene.transfer_keypoints(out / "scene", out / "rec", out / "graph.json", out / "kp", progress=quiet)
print(json.dumps({"reconstruct": rec, "edges": g["edges"], "pck": {k: t[k] for k in ("graph", "direct")}}))
"""

_BURN = "import numpy as np\nwhile True: np.linalg.svd(np.random.rand(300, 300))"


def _run(out: Path, hash_seed: str) -> tuple[dict, float]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(out)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def _frames(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--busy", type=int, default=2)
    args = parser.parse_args()
    first, t1 = _run(args.out / "a", "1")
    burners = [subprocess.Popen([sys.executable, "-c", _BURN]) for _ in range(args.busy)]
    try:
        second, t2 = _run(args.out / "b", "2")
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()
    for name, result, seconds in (("quiet", first, t1), (f"busy x{args.busy}", second, t2)):
        points = {v: s["points"] for v, s in result["reconstruct"]["videos"].items()}
        pck = [round(100 * x, 1) for x in result["pck"]["graph"]]
        print(f"{name}: {seconds:.0f} s; 3D points {points}; PCK graph (%) {pck}")
    same_frames = _frames(args.out / "a" / "scene") == _frames(args.out / "b" / "scene")
    print(f"identical numbers: {first == second}; identical frames: {same_frames}")


if __name__ == "__main__":
    main()
