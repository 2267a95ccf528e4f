"""The crosstask slot's visual half on this CPU: full-size I3D + ResNet-152 on a generated
640×360 30 fps H.264 video, decoding timed apart, one decoding pass vs two (the baseline: the
clip stream and the frame stream decoded separately), in the same run.

    PYTHONPATH=. python benchmarks/bench_crosstask.py [--work DIR] [--seconds 10] [--decode-only]

No real weights here: the networks hold random weights of the release layouts (speed does not
depend on the values). The audio half is not timed. Wall and CPU seconds (user + system, all
threads of this process) are printed as JSON and written to ``WORK/bench_crosstask.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _timed(fn):
    before, start = os.times(), time.perf_counter()
    value = fn()
    after = os.times()
    cpu = (after.user - before.user) + (after.system - before.system)
    return value, round(time.perf_counter() - start, 2), round(cpu, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_crosstask"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--decode-only", action="store_true", help="skip the networks' run")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(HERE))
    import torch
    from bench_video import make_video

    from instructvid.video import crosstask_features as ct
    from instructvid.video.i3d import I3DFeatures
    from instructvid.video.i3d import release_shapes as i3d_shapes
    from instructvid.video.nets import random_state
    from instructvid.video.resnet import ResNetFeatures
    from instructvid.video.resnet import release_shapes as resnet_shapes

    video = make_video(args.work / f"scene_{int(args.seconds)}s.mp4", args.seconds)
    i3d_file, resnet_file = args.work / "rgb_imagenet.pt", args.work / "resnet152-random.pth"
    if not i3d_file.exists():
        torch.save(random_state(i3d_shapes()), i3d_file)
        torch.save(random_state(resnet_shapes()), resnet_file)
    i3d = I3DFeatures(i3d_file, device="cpu")
    resnet = ResNetFeatures(resnet_file, device="cpu", batch=4)
    results: dict = {"video_s": args.seconds, "threads": torch.get_num_threads()}

    def decode(max_joint_rate: float) -> int:
        items, _ = ct.visual_items(i3d, video, 1.0, max_joint_rate)
        return sum(1 for _ in items)

    for label, limit in (("decode_one_pass", 480.0), ("decode_two_passes_baseline", 0.0)):
        rows, wall, cpu = _timed(lambda limit=limit: decode(limit))
        results[label] = {"rows": rows, "wall_s": wall, "cpu_s": cpu}
    one, two = results["decode_one_pass"], results["decode_two_passes_baseline"]
    results["two_over_one_cpu"] = round(two["cpu_s"] / max(one["cpu_s"], 1e-9), 2)
    results["two_over_one_wall"] = round(two["wall_s"] / max(one["wall_s"], 1e-9), 2)

    if args.decode_only:
        print(json.dumps(results, indent=2))
        return
    (values, _), wall, cpu = _timed(lambda: ct.visual_rows(i3d, resnet, video, 1.0, batch=4))
    results["visual_rows_one_pass"] = {
        "rows": int(values.shape[0]),
        "dim": int(values.shape[1]),
        "wall_s": wall,
        "cpu_s": cpu,
        "wall_per_video_s": round(wall / args.seconds, 2),
    }
    import numpy as np

    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (8, 16, 224, 224, 3), dtype=np.uint8)
    _, wall, cpu = _timed(lambda: i3d(clips))
    results["i3d_per_row"] = {"wall_s": round(wall / 8, 2), "cpu_s": round(cpu / 8, 2)}
    _, wall, cpu = _timed(lambda: resnet(clips[:, 0]))
    results["resnet_per_row"] = {"wall_s": round(wall / 8, 2), "cpu_s": round(cpu / 8, 2)}
    results["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    (args.work / "bench_crosstask.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
