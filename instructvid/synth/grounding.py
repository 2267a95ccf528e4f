"""A synthetic world for grounding narration in 3D (thesis §5.4–5.5.2): car engine bays ("car
models"), videos that dwell on parts while a narrator names them, and object-centric queries.

:func:`generate_grounding` writes, under ``out``::

    <scene>/videos/<video>.mp4        small rendered frames (point splats, see synth.splat)
    <scene>/subtitles/<video>.vtt     WebVTT narration
    <scene>/hands/<video>.npy         the per-second hand cue (T, 3): score, x, y in [0, 1]
    <scene>/cameras.json              ground truth: every frame's time, K, R, t (metres)
    <scene>/recon/                    an oracle reconstruction + alignment of the scene (below)
    objects.json                      {"<scene>": {"<object>": [x, y, z]}}, world frame, metres
    queries.csv                       scene,object,query (held-out wordings)
    world.json                        the settings, written last (a finished world is skipped)

Each scene places the same kinds of parts (air filter box, brake fluid reservoir, battery with its
two cables, dipstick, engine cover with the spark plugs, and distractors) at its own layout. Each
video performs a task (an order of objects): its camera dwells on each object in turn from the
video's own side of the car, with short transitions. The narration names the object in view, with
real noise: the mention is offset by seconds, worded with paraphrases, sometimes missing, some
cues mention a part that is out of view, and chatter is mixed in. The hand track is near the
handled object during most dwells (shifted, as a hand holding a tool) and absent otherwise. The
queries use wordings never spoken in the narration.

``recon/`` holds, for the grounding to run without structure from motion, what ``scene
reconstruct`` + ``scene align`` would give with a perfect reconstruction: per video, a COLMAP text
model (``models/<video>/0``) of the surface points seen by its registered frames (every 0.5 s,
20 % dropped), with 3 mm noise, in its own arbitrary similarity frame; the frames as
``frames/<video>/t000012.500.jpg``; and the alignment graph ``recon/graph.json`` mapping every
model to the first video's. Run ``scene reconstruct`` + ``scene align`` on ``videos/`` for the
real pipeline.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_save_npy, atomic_write_json, atomic_write_text
from instructvid.synth.grounding_recon import write_oracle_reconstruction
from instructvid.synth.scene import _box, _cylinder, _plane, look_at
from instructvid.synth.splat import render_points, sample_surface, solid_noise
from instructvid.types import PathLike, ProgressCallback

__all__ = ["OBJECTS", "SFM_READY", "GroundingSpec", "generate_grounding"]

#: The six objects of thesis Table 5.1.
OBJECTS: tuple[str, ...] = (
    "air_filter",
    "brake_fluid_reservoir",
    "negative_battery_cable",
    "positive_battery_cable",
    "dipstick",
    "spark_plugs",
)

#: Narration wordings (paraphrases) per object.
_SAID: dict[str, tuple[str, ...]] = {
    "air_filter": (
        "open the air filter housing",
        "pull the old air filter out",
        "the air cleaner box is right here",
        "drop the new filter into the air box",
    ),
    "brake_fluid_reservoir": (
        "check the brake fluid reservoir",
        "top up the brake fluid",
        "unscrew the cap of the brake fluid tank",
        "the brake reservoir should be at max",
    ),
    "negative_battery_cable": (
        "disconnect the negative battery cable first",
        "loosen the black negative terminal",
        "take the ground cable off the battery",
        "the minus clamp comes off first",
    ),
    "positive_battery_cable": (
        "now the positive battery cable",
        "remove the red positive terminal cover",
        "loosen the plus clamp on the battery",
        "take the positive lead off",
    ),
    "dipstick": (
        "pull out the dipstick",
        "wipe the oil dipstick clean",
        "check the oil level on the stick",
        "push the dipstick back in all the way",
    ),
    "spark_plugs": (
        "unscrew the spark plugs",
        "pull the coil off the spark plug",
        "gap the new plugs",
        "the ignition plugs sit under the engine cover",
    ),
}

#: Held-out query wordings per object (never spoken in the narration).
_QUERIES: dict[str, tuple[str, ...]] = {
    "air_filter": ("lift the filter out of the housing", "replace the engine air filter"),
    "brake_fluid_reservoir": ("fill the brake fluid up to the line", "where is the brake fluid"),
    "negative_battery_cable": (
        "remove the negative cable from the battery",
        "unbolt the negative terminal clamp",
    ),
    "positive_battery_cable": (
        "use a wrench to loosen the positive cable clamp and take the cable off of the terminal",
        "reconnect the positive terminal",
    ),
    "dipstick": ("remove the dipstick", "read the oil level on the dipstick"),
    "spark_plugs": ("remove the old spark plugs", "install the spark plug with a socket"),
}

_CHATTER = (
    "hey guys welcome back to the channel",
    "make sure the engine is cool before you start",
    "grab your gloves and a rag",
    "this is a really easy job",
    "thanks for watching and subscribe",
    "okay let me move the camera",
)

_OUT_OF_VIEW = ("later we will also look at the {}", "do not forget the {} afterwards")

#: Parts: name → (kind, size, colour); sizes in metres as in synth.scene (box: sx, sy, sz).
_PARTS: dict[str, tuple[str, tuple[float, float, float], tuple[int, int, int]]] = {
    "air_filter_box": ("box", (0.30, 0.24, 0.16), (40, 40, 44)),
    "brake_fluid_reservoir": ("cylinder", (0.06, 0.06, 0.13), (215, 200, 120)),
    "battery": ("box", (0.26, 0.18, 0.20), (30, 60, 150)),
    "dipstick": ("cylinder", (0.02, 0.02, 0.30), (240, 190, 20)),
    "engine_cover": ("box", (0.34, 0.28, 0.22), (110, 110, 115)),
    "coolant_reservoir": ("cylinder", (0.08, 0.08, 0.18), (220, 220, 225)),
    "washer_tank": ("box", (0.22, 0.10, 0.12), (40, 120, 200)),
    "fuse_box": ("box", (0.18, 0.14, 0.10), (25, 25, 25)),
}
_SLOTS = [(x, y) for y in (-0.26, 0.24) for x in (-0.6, -0.2, 0.2, 0.6)]


@dataclass(frozen=True)
class GroundingSpec:
    """Settings of the synthetic grounding world (defaults in one place; everything seeded)."""

    scenes: int = 3
    videos: int = 6
    objects_per_task: int = 4
    dwell_s: float = 5.0  # seconds the camera stays on an object
    move_s: float = 2.0  # seconds between two objects
    fps: float = 4.0
    width: int = 128
    height: int = 96
    surface_points: int = 20000
    mention_rate: float = 0.85  # share of dwells whose object is named
    offset_s: float = 1.5  # std of the mention time offset (seconds)
    out_of_view_rate: float = 0.3  # per dwell, a cue naming another object
    hand_rate: float = 0.75  # share of dwell seconds with the hand near the object
    hand_shift: float = 0.06  # std of the hand's shift from the object, in image widths
    registered_every_s: float = 0.5
    registered_drop: float = 0.2
    point_noise_m: float = 0.003
    # contrast of a solid (3D) texture on every surface, 0 = none: flat part colours with
    # per-sample noise only (the default); > 0 gives view-consistent blobs that SIFT can match
    texture: float = 0.0
    splat: int = 2  # pixels per surface sample (square)
    seed: int = 0

    def check(self) -> None:
        if self.scenes < 1 or self.videos < 1:
            raise ValueError("the grounding world needs --scenes >= 1 and --videos >= 1")
        if not 1 <= self.objects_per_task <= len(OBJECTS):
            raise ValueError(f"objects_per_task must be in 1..{len(OBJECTS)}")
        if self.width < 32 or self.height < 24 or self.width % 2 or self.height % 2:
            raise ValueError("frames must be at least 32 x 24 pixels, with even sides")
        if self.texture < 0 or self.splat < 1 or self.surface_points < 100:
            raise ValueError("texture must be >= 0, splat >= 1 pixel, surface_points >= 100")


#: Settings of a world whose videos ``scene reconstruct`` can reconstruct (``synth grounding
#: --sfm-ready``): the default 128 × 96 frames of flat-coloured splats give SIFT too little (a
#: video of seed 0 falls apart into 4 small models); 256 × 192 frames of 120,000 samples with a
#: solid texture register every sampled frame (docs/scene.md).
SFM_READY: dict[str, float | int] = {
    "width": 256,
    "height": 192,
    "surface_points": 120_000,
    "texture": 0.6,
}


def _layout(
    rng: np.random.Generator,
) -> tuple[dict[str, tuple[float, float]], dict[str, np.ndarray]]:
    """Part centres on the floor and the objects' 3D points (metres) of one car model."""
    names = list(_PARTS)
    slots = rng.permutation(len(_SLOTS))
    centres = {
        n: (_SLOTS[s][0] + rng.uniform(-0.05, 0.05), _SLOTS[s][1] + rng.uniform(-0.04, 0.04))
        for n, s in zip(names, slots, strict=False)
    }

    def top(part: str, dx: float = 0.0) -> np.ndarray:
        cx, cy = centres[part]
        return np.array([cx + dx, cy, _PARTS[part][1][2]])

    objects = {
        "air_filter": top("air_filter_box"),
        "brake_fluid_reservoir": top("brake_fluid_reservoir"),
        "negative_battery_cable": top("battery", 0.08),
        "positive_battery_cable": top("battery", -0.08),
        "dipstick": top("dipstick"),
        "spark_plugs": top("engine_cover"),
    }
    return centres, objects


def _surface(
    centres: dict[str, tuple[float, float]],
    n: int,
    rng: np.random.Generator,
    *,
    texture: float = 0.0,
    texture_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Surface samples (n, 3) of the bay and their colours (n, 3) uint8.

    Each sample has its part's colour times a per-sample shade in [0.75, 1.15]; with ``texture``
    > 0 also times ``1 + texture · solid_noise(position)`` (:func:`~instructvid.synth.splat.solid_noise`,
    seeded by ``texture_seed``), and the per-sample shade is damped to [0.87, 1.07]."""
    meshes = {
        "floor": (
            _plane(
                [(-0.85, -0.55, 0), (0.85, -0.55, 0), (0.85, 0.55, 0), (-0.85, 0.55, 0)], (0, 0, 1)
            ),
            (95, 95, 100),
        ),
        "firewall": (
            _plane(
                [(-0.85, 0.55, 0), (0.85, 0.55, 0), (0.85, 0.55, 0.5), (-0.85, 0.55, 0.5)],
                (0, -1, 0),
            ),
            (70, 70, 70),
        ),
    }
    for name, (kind, size, colour) in _PARTS.items():
        rows = (
            _box(size, centres[name])
            if kind == "box"
            else _cylinder(size[0], size[2], centres[name], n=24)
        )
        meshes[name] = (rows, colour)
    areas = {}
    for name, (rows, _) in meshes.items():
        tri = rows[:, :3].reshape(-1, 3, 3).astype(np.float64)
        areas[name] = (
            0.5
            * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
        )
    total = sum(areas.values())
    pts, cols = [], []
    for name, (rows, colour) in meshes.items():
        # parts get 4x the density of the floor and the firewall: they are what videos look at
        weight = 1.0 if name in ("floor", "firewall") else 4.0
        m = max(50, int(n * weight * areas[name] / total / 2.5))
        p = sample_surface(rows, m, rng)
        shade = rng.uniform(0.75, 1.15, (m, 1))
        if texture > 0:
            solid = np.clip(1.0 + texture * solid_noise(p, texture_seed), 0.1, 2.5)
            shade = solid[:, None] * (0.5 * shade + 0.475)
        pts.append(p)
        cols.append(
            np.clip(np.asarray(colour, np.float64)[None, :] * shade, 0, 255).astype(np.uint8)
        )
    return np.concatenate(pts), np.concatenate(cols)


def _timeline(
    order: list[str], spec: GroundingSpec, rng: np.random.Generator
) -> list[tuple[str | None, float, float]]:
    """(object or None for an overview/move, start, end) in seconds, covering the video."""
    t = 0.0
    spans: list[tuple[str | None, float, float]] = [(None, 0.0, spec.move_s)]
    t = spec.move_s
    for obj in order:
        d = spec.dwell_s * rng.uniform(0.8, 1.2)
        spans.append((obj, t, t + d))
        t += d
        spans.append((None, t, t + spec.move_s))
        t += spec.move_s
    return spans


def _cameras(
    spans,
    objects: dict[str, np.ndarray],
    spec: GroundingSpec,
    rng: np.random.Generator,
    side: float,
) -> list[dict]:
    """Every frame's camera (time, K, R, t): dwell views of each object from the video's side."""
    f = spec.width * rng.uniform(0.8, 0.95)
    k = np.array([[f, 0, spec.width / 2], [0, f, spec.height / 2], [0, 0, 1.0]])
    elevation = math.radians(rng.uniform(50, 68))
    overview = np.array([0.0, 0.0, 0.1])

    def eye_for(target: np.ndarray, dist: float, az: float) -> np.ndarray:
        a = math.radians(az) - math.pi / 2
        return target + dist * np.array(
            [
                math.cos(elevation) * math.cos(a),
                math.cos(elevation) * math.sin(a),
                math.sin(elevation),
            ]
        )

    keys: list[tuple[float, np.ndarray, np.ndarray]] = []  # (time, eye, target) at span boundaries
    for obj, a, b in spans:
        if obj is None:
            continue
        target = objects[obj] + rng.normal(0, 0.015, 3)
        az = side + rng.uniform(-15, 15)
        dist = rng.uniform(0.5, 0.75)
        keys.append((a, eye_for(target, dist, az), target))
        keys.append((b, eye_for(target, dist * 0.95, az + rng.uniform(-5, 5)), target))
    end = spans[-1][2]
    keys = [
        (0.0, eye_for(overview, 1.3, side), overview),
        *keys,
        (end, eye_for(overview, 1.3, side), overview),
    ]
    times = np.array([kk[0] for kk in keys])
    frames = []
    for i in range(math.floor(end * spec.fps) + 1):
        t = i / spec.fps
        j = int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(keys) - 2))
        t0, t1 = times[j], times[j + 1]
        w = 0.0 if t1 <= t0 else float(np.clip((t - t0) / (t1 - t0), 0, 1))
        w = 0.5 - 0.5 * math.cos(math.pi * w)  # ease in and out
        eye = (1 - w) * keys[j][1] + w * keys[j + 1][1]
        target = (1 - w) * keys[j][2] + w * keys[j + 1][2]
        rot, trans = look_at(eye, target)
        frames.append(
            {"time": round(t, 3), "K": k.tolist(), "R": rot.tolist(), "t": trans.tolist()}
        )
    return frames


def _narration(
    spans, spec: GroundingSpec, rng: np.random.Generator
) -> list[tuple[float, float, str]]:
    """Cues (start, end, text), sorted, not overlapping."""
    cues: list[tuple[float, str]] = [(0.3, str(rng.choice(_CHATTER[:2])))]
    for obj, a, b in spans:
        if obj is None:
            continue
        if rng.random() < spec.mention_rate:
            cues.append(((a + b) / 2 + rng.normal(0, spec.offset_s), str(rng.choice(_SAID[obj]))))
        if rng.random() < spec.out_of_view_rate:
            other = str(rng.choice([o for o in OBJECTS if o != obj]))
            template = str(rng.choice(_OUT_OF_VIEW))
            cues.append(
                (b + 0.2, template.format(str(rng.choice(_SAID[other])).split(" the ")[-1]))
            )
        if rng.random() < 0.3:
            cues.append((b + spec.move_s / 2, str(rng.choice(_CHATTER[2:]))))
    cues.sort(key=lambda c: c[0])
    out: list[tuple[float, float, str]] = []
    last_end = 0.0
    for centre, text in cues:
        start = max(last_end + 0.05, centre - 1.2, 0.0)
        end = start + 2.4
        out.append((round(start, 3), round(end, 3), text))
        last_end = end
    return out


def _hands(
    spans,
    frames: list[dict],
    objects: dict[str, np.ndarray],
    spec: GroundingSpec,
    rng: np.random.Generator,
) -> np.ndarray:
    """The per-second hand cue (T, 3): score, x, y in [0, 1] (x, y in image widths/heights)."""
    end = spans[-1][2]
    n = math.ceil(end)
    out = np.zeros((n, 3), np.float32)
    times = np.array([f["time"] for f in frames])
    for i in range(n):
        t = i + 0.5
        obj = next((o for o, a, b in spans if o is not None and a <= t < b), None)
        out[i] = (rng.uniform(0.0, 0.3), rng.random(), rng.random())
        if obj is None or rng.random() >= spec.hand_rate:
            continue
        f = frames[int(np.argmin(np.abs(times - t)))]
        k, rot, trans = (np.asarray(f[x]) for x in ("K", "R", "t"))
        xc = rot @ objects[obj] + trans
        u = (k[0, 0] * xc[0] / xc[2] + k[0, 2]) / spec.width + rng.normal(0, spec.hand_shift)
        v = (k[1, 1] * xc[1] / xc[2] + k[1, 2]) / spec.height + rng.normal(0, spec.hand_shift)
        out[i] = (rng.uniform(0.6, 1.0), np.clip(u, 0, 1), np.clip(v, 0, 1))
    return out


def _write_vtt(path: Path, cues: list[tuple[float, float, str]]) -> None:
    from instructvid.io.subtitles import Cue, write_webvtt

    write_webvtt(path, [Cue(a, b, text) for a, b, text in cues])


def generate_grounding(
    out: PathLike,
    spec: GroundingSpec | None = None,
    *,
    write_recon: bool = True,
    progress: ProgressCallback | None = None,
    **overrides,
) -> Path:
    """Write the grounding world under ``out`` (layout in the module docstring); ``world.json``.

    Skips everything when ``world.json`` exists with the same settings; refuses a folder made with
    other settings (ValueError naming them).
    """
    import dataclasses
    import json

    from instructvid.video.decode import write_video

    spec = dataclasses.replace(spec or GroundingSpec(), **overrides)
    spec.check()
    out = Path(out)
    done = out / "world.json"
    settings = {**asdict(spec), "recon": write_recon}
    if done.exists():
        old = json.loads(done.read_text(encoding="utf-8")).get("settings")
        if isinstance(old, dict):  # settings added later count with their defaults
            old = {**asdict(GroundingSpec()), **old}
        if old != settings:
            raise ValueError(
                f"{out} already holds a grounding world made with other settings; use another folder"
            )
        return done
    objects_json: dict[str, dict[str, list[float]]] = {}
    query_rows = []
    total = spec.scenes * spec.videos
    if progress:
        progress(0, total)
    for s in range(spec.scenes):
        scene = f"car_{s}"
        rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 13, s]))
        centres, objects = _layout(rng)
        surface, colours = _surface(
            centres,
            spec.surface_points,
            rng,
            texture=spec.texture,
            texture_seed=int(np.random.SeedSequence([spec.seed, 15, s]).generate_state(1)[0]),
        )
        objects_json[scene] = {o: [round(float(x), 6) for x in p] for o, p in objects.items()}
        tasks = [list(rng.permutation(OBJECTS)[: spec.objects_per_task]) for _ in range(3)]
        cameras_json: dict[str, dict] = {}
        rendered: dict[str, list[np.ndarray]] = {}
        for v in range(spec.videos):
            video = f"{scene}_v{v:02d}"
            vrng = np.random.default_rng(np.random.SeedSequence([spec.seed, 13, s, v]))
            order = [str(o) for o in tasks[v % len(tasks)]]
            spans = _timeline(order, spec, vrng)
            side = -100.0 + 200.0 * (v + 0.5) / spec.videos
            frames = _cameras(spans, objects, spec, vrng, side)
            images = [
                render_points(
                    surface,
                    colours,
                    np.asarray(f["K"]),
                    np.asarray(f["R"]),
                    np.asarray(f["t"]),
                    spec.width,
                    spec.height,
                    splat=spec.splat,
                )
                for f in frames
            ]
            write_video(out / scene / "videos" / f"{video}.mp4", images, fps=spec.fps)
            _write_vtt(out / scene / "subtitles" / f"{video}.vtt", _narration(spans, spec, vrng))
            atomic_save_npy(
                out / scene / "hands" / f"{video}.npy", _hands(spans, frames, objects, spec, vrng)
            )
            cameras_json[video] = {
                "width": spec.width,
                "height": spec.height,
                "fps": spec.fps,
                "task": order,
                "dwell": [
                    {"object": o, "start": round(a, 3), "end": round(b, 3)}
                    for o, a, b in spans
                    if o
                ],
                "frames": frames,
            }
            rendered[video] = images
            if progress:
                progress(s * spec.videos + v + 1, total)
        atomic_write_json(
            out / scene / "cameras.json",
            {
                "units": "metres",
                "convention": "cam_from_world: x_cam = R x_world + t; u = fx x/z + cx",
                "videos": cameras_json,
            },
        )
        if write_recon:
            rrng = np.random.default_rng(np.random.SeedSequence([spec.seed, 14, s]))
            write_oracle_reconstruction(
                out / scene / "recon", cameras_json, rendered, surface, colours, spec, rrng
            )
        for obj in OBJECTS:
            for q in _QUERIES[obj]:
                query_rows.append((scene, obj, q))
    atomic_write_json(out / "objects.json", objects_json)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["scene", "object", "query"])
    writer.writerows(query_rows)
    atomic_write_text(out / "queries.csv", buf.getvalue())
    with atomic_open(done, "w") as fh:
        json.dump({"settings": settings, "scenes": sorted(objects_json)}, fh, indent=2)
    return done
