"""Video front end: features of a 5-minute 640×360 30 fps H.264 video on this CPU, decoding and
model timed apart, the naive route timed as the baseline in the same run, peak RSS flat in the
length (a 60-minute video), the ``flow`` cue's throughput, and process pool vs Ray on 20 videos.

    PYTHONPATH=. python benchmarks/bench_video.py [--work DIR] [--quick]

Every measurement runs in its own Python process (peak RSS = that process's VmHWM). The test
videos are generated with PyAV (libx264, preset veryfast: CABAC and B-frames, like camera
footage) into ``--work`` and reused when present; the 60-minute video is the 5-minute one
remuxed 12 times (no re-encoding). Results are printed as JSON and written to
``WORK/bench_video.json``. ``--quick`` shrinks everything (a 30 s video) to check the script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------- generated videos
def make_video(
    path: Path,
    seconds: float,
    width: int = 640,
    height: int = 360,
    fps: int = 30,
    preset: str = "veryfast",
) -> Path:
    """A textured scene, panning and zooming slowly, with a moving object and sensor noise."""
    import av
    import cv2

    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.mp4")
    rng = np.random.default_rng(0)
    world = cv2.resize(
        rng.random((60, 200, 3)).astype(np.float32),
        (width * 3, height * 2),
        interpolation=cv2.INTER_CUBIC,
    )
    world = (np.clip(world, 0, 1) * 255).astype(np.uint8)
    noise = rng.integers(0, 12, (8, height, width, 3), dtype=np.uint8)
    container = av.open(str(tmp), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": preset, "crf": "23"}
    for i in range(int(seconds * fps)):
        t = i / fps
        x = int((np.sin(t / 7) * 0.5 + 0.5) * (world.shape[1] - width))
        y = int((np.sin(t / 11) * 0.5 + 0.5) * (world.shape[0] - height))
        img = world[y : y + height, x : x + width] + noise[i % 8]
        cx = int((t * 40) % width)
        img[height // 3 : height // 3 + 60, max(0, cx - 30) : cx + 30] = (200, 60, 40)
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    tmp.rename(path)
    return path


def repeat_video(src: Path, path: Path, times: int) -> Path:
    """``src`` played ``times`` times in a row, remuxed (packets copied, timestamps shifted)."""
    import av

    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(src)) as probe:
        s = probe.streams.video[0]
        span = s.duration or int(probe.duration / 1e6 / s.time_base)
    out = av.open(str(tmp), "w")
    ostream = None
    for k in range(times):
        with av.open(str(src)) as inp:
            istream = inp.streams.video[0]
            if ostream is None:
                ostream = out.add_stream_from_template(istream)
            for packet in inp.demux(istream):
                if packet.dts is None:
                    continue
                packet.pts += k * span
                packet.dts += k * span
                packet.stream = ostream
                out.mux(packet)
    out.close()
    tmp.rename(path)
    return path


# ---------------------------------------------------------------- measurements (children)
def child_features(video: str, out: str, extractor: str, fps: float, batch: int = 32) -> dict:
    from instructvid.video.extract import extract_features

    start = time.perf_counter()
    result = extract_features(
        [video], out, extractor=extractor, fps=fps, batch=batch, workers=1, device="cpu"
    )
    wall = time.perf_counter() - start
    (entry,) = result.videos.values()
    return {
        "wall_s": wall,
        "rows": entry["rows"],
        "duration_s": entry["duration"],
        "peak_rss_mb": _rss_mb(),
        "problems": result.problems,
    }


def child_decode(video: str) -> dict:
    from instructvid.video.stream import RateDecoder

    start = time.perf_counter()
    n = sum(1 for _ in RateDecoder(video, rate=1.0, size=(224, 224)))
    return {"wall_s": time.perf_counter() - start, "rows": n, "peak_rss_mb": _rss_mb()}


def child_naive(video: str) -> dict:
    """Every frame to full-size RGB, then one per second kept and resized (the naive route)."""
    import cv2

    from instructvid.video.decode import iter_frames

    start = time.perf_counter()
    kept, next_t = [], 0.0
    for _, t, rgb in iter_frames(video):
        if t >= next_t - 1e-9:
            kept.append(cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_AREA))
            next_t = np.floor(t) + 1.0
    return {"wall_s": time.perf_counter() - start, "rows": len(kept), "peak_rss_mb": _rss_mb()}


def child_model(n: int, batch: int) -> dict:
    from instructvid.video.features import make_extractor

    t0 = time.perf_counter()
    model = make_extractor("efficientnet-lite0", device="cpu", batch=batch)
    load = time.perf_counter() - t0
    frames = np.random.default_rng(0).integers(0, 255, (n, 224, 224, 3), dtype=np.uint8)
    start = time.perf_counter()
    for i in range(0, n, batch):
        model(frames[i : i + batch])
    return {
        "wall_s": time.perf_counter() - start,
        "load_s": load,
        "frames": n,
        "peak_rss_mb": _rss_mb(),
    }


def child_flow(video: str, out: str) -> dict:
    from instructvid.video.extract import extract_cues

    start = time.perf_counter()
    result = extract_cues([video], out, cue="flow", workers=1)
    (entry,) = result.videos.values()
    return {
        "wall_s": time.perf_counter() - start,
        "rows": entry["rows"],
        "duration_s": entry["duration"],
        "peak_rss_mb": _rss_mb(),
    }


def child_executors(folder: str, out: str, extractor: str) -> dict:
    from instructvid.video.extract import extract_features

    res = {}
    for name in ("local", "ray"):
        kw = {"workers": 2} if name == "local" else {"executor": "ray"}
        if name == "ray":
            import ray

            t0 = time.perf_counter()
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
            res["ray_init_s"] = time.perf_counter() - t0
        start = time.perf_counter()
        result = extract_features(
            [folder], f"{out}/{name}", extractor=extractor, device="cpu", **kw
        )
        res[f"{name}_s"] = time.perf_counter() - start
        res[f"{name}_videos"] = len(result.videos)
    import ray

    ray.shutdown()
    stems = sorted(p.stem for p in Path(f"{out}/local").glob("*.npy"))
    res["identical"] = bool(stems) and all(
        np.array_equal(np.load(f"{out}/local/{s}.npy"), np.load(f"{out}/ray/{s}.npy"))
        for s in stems
    )
    return res


CHILDREN = {
    f.__name__[6:]: f
    for f in (child_features, child_decode, child_naive, child_model, child_flow, child_executors)
}


def cpu_after(before) -> float:
    """CPU seconds (user + system, every thread) of the children finished since ``before``."""
    now = os.times()
    return (now.children_user - before.children_user) + (
        now.children_system - before.children_system
    )


def run_child(name: str, *args) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--args",
        json.dumps([str(a) if isinstance(a, Path) else a for a in args]),
    ]
    t0 = time.perf_counter()
    before = os.times()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    result["cpu_s"] = cpu_after(before)
    print(f"  {name}{tuple(args)}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/instructvid-bench-video"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--long-fps",
        type=float,
        default=0.1,
        help="Rows per second for the 60-minute RSS check (the 5-minute twin "
        "runs at the same rate).",
    )
    parser.add_argument("--child")
    parser.add_argument("--args", default="[]")
    a = parser.parse_args()
    if a.child:
        print(json.dumps(CHILDREN[a.child](*json.loads(a.args))))
        return
    import shutil

    work = a.work
    work.mkdir(parents=True, exist_ok=True)
    seconds = 30 if a.quick else 300
    report: dict = {"load_before": os.getloadavg(), "cpus": os.cpu_count()}
    t0 = time.perf_counter()
    short = make_video(work / f"v{seconds}s.mp4", seconds)
    report["generate_s"] = time.perf_counter() - t0
    long = repeat_video(short, work / f"v{seconds * 12}s.mp4", 12)
    for sub in ("f5", "f5b", "f60", "flow", "ex"):
        shutil.rmtree(work / sub, ignore_errors=True)

    print(f"features of {short.name} (efficientnet-lite0, 1 fps) …", file=sys.stderr)
    e2e = run_child("features", short, work / "f5", "efficientnet-lite0", 1.0)
    dec = run_child("decode", short)
    naive = run_child("naive", short)
    model = run_child("model", int(e2e["rows"]), 32)
    report["five_minutes"] = {
        "video_s": e2e["duration_s"],
        "rows": e2e["rows"],
        "end_to_end_s": e2e["wall_s"],
        "times_real_time": e2e["duration_s"] / e2e["wall_s"],
        "peak_rss_mb": e2e["peak_rss_mb"],
        "decode_s": dec["wall_s"],
        "decode_peak_rss_mb": dec["peak_rss_mb"],
        "model_s": model["wall_s"],
        "model_load_s": model["load_s"],
        "model_ms_per_frame": 1000 * model["wall_s"] / model["frames"],
        "naive_decode_s": naive["wall_s"],
        "naive_peak_rss_mb": naive["peak_rss_mb"],
        "naive_over_streamed_decode": naive["wall_s"] / dec["wall_s"],
        "naive_end_to_end_over_ours": (naive["wall_s"] + model["wall_s"]) / e2e["wall_s"],
    }
    print(f"peak RSS flat in length (fps {a.long_fps}) …", file=sys.stderr)
    r5 = run_child("features", short, work / "f5b", "efficientnet-lite0", a.long_fps, 8)
    r60 = run_child("features", long, work / "f60", "efficientnet-lite0", a.long_fps, 8)
    report["rss_vs_length"] = {
        "fps": a.long_fps,
        "batch": 8,
        "short_s": r5["duration_s"],
        "long_s": r60["duration_s"],
        "short_rss_mb": r5["peak_rss_mb"],
        "long_rss_mb": r60["peak_rss_mb"],
        "long_over_short": r60["peak_rss_mb"] / r5["peak_rss_mb"],
        "long_wall_s": r60["wall_s"],
        "long_rows": r60["rows"],
    }
    print("flow cue …", file=sys.stderr)
    flow = run_child("flow", short, work / "flow")
    report["flow"] = {
        "wall_s": flow["wall_s"],
        "video_s": flow["duration_s"],
        "times_real_time": flow["duration_s"] / flow["wall_s"],
        "peak_rss_mb": flow["peak_rss_mb"],
    }
    print("process pool vs Ray on 20 videos …", file=sys.stderr)
    folder = work / "twenty"
    folder.mkdir(exist_ok=True)
    for i in range(20):
        make_video(folder / f"clip{i:02d}.mp4", 4 if a.quick else 8, 320, 180, 30, "ultrafast")
    report["executors"] = run_child("executors", folder, work / "ex", "efficientnet-lite0")
    report["load_after"] = os.getloadavg()
    report["total_s"] = time.perf_counter() - t0
    (work / "bench_video.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
