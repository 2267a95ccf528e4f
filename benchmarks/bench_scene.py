"""Per-video reconstruction + alignment graph vs one joint reconstruction (thesis §5.3: O(N²) vs
O(n²N²)).

For n = 2, 4, 8 synthetic videos of one scene (small frames so that it runs in minutes):

- **per-video**: each video reconstructed on its own (pycolmap incremental SfM; serial, and with
  the default local process pool), then aligned (retrieval + local+flow matching + RANSAC-Umeyama)
  into the alignment graph;
- **joint**: all n·N frames in one pycolmap reconstruction (exhaustive matching of all pairs).

Both use the same features, matcher and SfM options, and one camera per image (the joint
problem cannot share a camera across videos, so neither does the per-video one here).
Writes the "## Scene reconstruction" section of BENCHMARKS.md (and only that section).

    python benchmarks/bench_scene.py [--videos 2,4,8] [--frames 12] [--size 320x240] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from _report import write_section  # benchmarks/_report.py

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Scene reconstruction"


def _joint_folder(scene_dir: Path, names: list[str], dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for v in names:
        for png in sorted((scene_dir / "videos" / v).glob("*.png")):
            os.symlink(png, dst / f"{v}__{png.name}")
    return dst


def run(videos: list[int], frames: int, width: int, height: int, workdir: Path) -> list[dict]:
    from instructvid.scene.align import AlignConf, align
    from instructvid.scene.reconstruct import reconstruct, reconstruct_input
    from instructvid.scene.sfm import ReconstructConf
    from instructvid.synth.scene import render_scene

    n_max = max(videos)
    scene = workdir / "scene"
    render_scene(scene, n_videos=n_max, n_frames=frames, width=width, height=height, seed=3)
    conf = ReconstructConf(camera_mode="per_image", max_features=1500, num_threads=1)
    rows = []
    for n in videos:
        names = [f"video_{i:02d}" for i in range(n)]
        inputs = [scene / "videos" / v for v in names]
        # the n videos are spread over the whole 260° fan of the n_max rendered ones
        if n < n_max:
            step = n_max // n
            names = [f"video_{i:02d}" for i in range(0, n_max, step)][:n]
            inputs = [scene / "videos" / v for v in names]
        row: dict = {"n": n, "frames_per_video": frames, "images": n * frames}
        out_serial = workdir / f"serial_{n}"
        t = time.perf_counter()
        reconstruct(inputs, out_serial, conf, workers=1)
        row["per_video_serial_s"] = time.perf_counter() - t
        out_pool = workdir / f"pool_{n}"
        t = time.perf_counter()
        reconstruct(inputs, out_pool, conf, workers=2)
        row["per_video_pool_s"] = time.perf_counter() - t
        t = time.perf_counter()
        graph = json.loads(align(out_serial, workdir / f"graph_{n}.json", AlignConf()).read_text())
        row["align_s"] = time.perf_counter() - t
        row["edges"] = len(graph["edges"])
        row["components"] = len(graph["components"])
        rep = json.loads((out_serial / "reconstruct.json").read_text())["inputs"]
        row["per_video_registered"] = sum(s["registered_images"] for s in rep.values())
        joint_in = _joint_folder(scene, names, workdir / f"joint_{n}" / "all")
        t = time.perf_counter()
        s = reconstruct_input(joint_in, workdir / f"joint_{n}" / "out", conf)
        row["joint_s"] = time.perf_counter() - t
        row["joint_models"] = len(s["models"])
        row["joint_registered_largest"] = s["models"][0]["images"] if s["models"] else 0
        row["joint_stage_s"] = s["stage_seconds"]
        rows.append(row)
        print(json.dumps(row))
    return rows


def markdown(rows: list[dict], args, seconds: float) -> str:
    import cv2
    import pycolmap

    lines = [
        SECTION,
        "",
        f"Run {_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')} by `python benchmarks/bench_scene.py "
        f"--videos {args.videos} --frames {args.frames} --size {args.size}`; nproc = {os.cpu_count()}; "
        f"Python {platform.python_version()}, pycolmap {pycolmap.__version__}, OpenCV {cv2.__version__}; "
        f"whole run {seconds / 60:.1f} min.",
        "Synthetic engine-bay videos (`instructvid synth scene`), "
        f"{args.frames} frames of {args.size} per video, SIFT (≤ 1500 per image), exhaustive mutual-NN "
        "matching (ratio 0.85), one camera per image, pycolmap incremental SfM with 1 thread per "
        "reconstruction. *Per-video* = each video on its own (serially, and 2 at a time with the "
        "local process pool) + cross-video alignment (VLAD retrieval, 10 frame pairs per model "
        "pair, local + flow matching, RANSAC-Umeyama); *joint* = one reconstruction of all frames.",
        "",
        "| videos n | images | per-video SfM, serial (s) | per-video SfM, 2 processes (s) | alignment (s) "
        "| per-video total, serial (s) | joint SfM (s) | joint / per-video serial | graph | joint result |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        total = r["per_video_serial_s"] + r["align_s"]
        lines.append(
            f"| {r['n']} | {r['images']} | {r['per_video_serial_s']:.1f} | {r['per_video_pool_s']:.1f} | "
            f"{r['align_s']:.1f} | {total:.1f} | {r['joint_s']:.1f} | {r['joint_s'] / total:.2f}x | "
            f"{r['edges']} edges, {r['components']} component(s); {r['per_video_registered']}/{r['images']} registered | "
            f"{r['joint_models']} model(s), largest {r['joint_registered_largest']}/{r['images']} |"
        )
    lines += [
        "",
        "Joint SfM time by stage (s): "
        + "; ".join(
            f"n = {r['n']}: " + ", ".join(f"{k} {v:.1f}" for k, v in r["joint_stage_s"].items())
            for r in rows
        ),
        "",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", default="2,4,8")
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--size", default="320x240")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = p.parse_args()
    videos = [int(v) for v in args.videos.split(",")]
    width, height = (int(x) for x in args.size.split("x"))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_scene_"))
    start = time.perf_counter()
    try:
        rows = run(videos, args.frames, width, height, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    text = markdown(rows, args, time.perf_counter() - start)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
