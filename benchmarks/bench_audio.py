"""Audio front end: streamed decoding + log-mel examples vs the whole-track route, and VGGish.

    PYTHONPATH=. python benchmarks/bench_audio.py [--work DIR] [--minutes 5 20]

For each length, a 48 kHz stereo AAC track (a tone changing every second) in Matroska is made
with PyAV into ``--work`` (reused when present). Two routes, each in its own Python process
(peak RSS = that process's VmHWM; time = the best of 3 runs), on the same file in the same run:

- ``streamed``: ``stream_examples(AudioStream(path))`` — what the vggish slot runs;
- ``whole`` (the baseline): ``examples(log_mel(decode_audio(path)))`` — the whole track in memory.

Then the full-size VGGish (random weights, the published layout) on 64 examples on this CPU:
examples per second = seconds of audio per second at 1 fps. Prints JSON and writes
``WORK/bench_audio.json``.
"""

from __future__ import annotations

import argparse
import json
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


def make_track(path: Path, seconds: int) -> Path:
    import av

    if path.is_file():
        return path
    tmp = path.with_suffix(".part.mkv")
    container = av.open(str(tmp), "w")
    stream = container.add_stream("aac", rate=48000)
    stream.layout = "stereo"
    block, phase = 1024, 0.0
    freqs = 200 + 3800 * np.random.default_rng(0).random(seconds + 1)
    for i in range(seconds * 48000 // block):
        t0 = i * block / 48000
        f = freqs[int(t0)]
        step = 2 * np.pi * f / 48000
        wave = 0.3 * np.sin(phase + step * np.arange(block))
        phase = (phase + step * block) % (2 * np.pi)
        data = np.repeat(wave[None].astype(np.float32), 2, axis=0)
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48000, i * block
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    tmp.rename(path)
    return path


def run_route(route: str, path: str) -> dict:
    from instructvid.video.audio import (
        AudioStream,
        decode_audio,
        examples,
        log_mel,
        stream_examples,
    )

    times = []
    for _ in range(3):  # the best of 3 (the machine is shared)
        start = time.perf_counter()
        if route == "streamed":
            n = sum(1 for _ in stream_examples(AudioStream(path)))
        else:
            n = len(examples(log_mel(decode_audio(path))))
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "rows": n, "peak_rss_mb": _rss_mb()}


def run_model() -> dict:
    import torch

    from instructvid.video.vggish import VGGish

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = VGGish().eval()
    x = torch.randn(64, 1, 96, 64)
    with torch.inference_mode():
        model(x[:4])  # warm-up
        start = time.perf_counter()
        model(x)
        elapsed = time.perf_counter() - start
    return {"examples_per_s": 64 / elapsed, "peak_rss_mb": _rss_mb()}


def _child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("/tmp/instructvid-bench-audio"))
    parser.add_argument("--minutes", type=float, nargs="+", default=[5, 20])
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(run_model() if kind == "model" else run_route(kind, rest[0])))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict = {"tracks": {}}
    for minutes in args.minutes:
        seconds = int(minutes * 60)
        path = make_track(args.work / f"tone_{seconds}s.mkv", seconds)
        row = {"audio_s": seconds}
        for route in ("whole", "streamed"):
            row[route] = _child([route, str(path)])
        row["time_ratio_streamed_over_whole"] = row["streamed"]["seconds"] / row["whole"]["seconds"]
        row["realtime_factor_streamed"] = seconds / row["streamed"]["seconds"]
        results["tracks"][f"{minutes:g} min"] = row
    results["vggish_full_size_cpu"] = _child(["model"])
    text = json.dumps(results, indent=2)
    print(text)
    (args.work / "bench_audio.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
