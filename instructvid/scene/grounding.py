"""Training pairs for grounding narration in 3D (thesis §5.4): segments → frames → 2D points →
back-projected 3D points in the scene's common reference frame.

1. **Segments** s_i: one subtitle cue each (default), or windows of ``window`` words.
2. **Frame**: the registered frame nearest the segment's mid-time, within ``max_gap_s`` (or every
   registered frame inside the segment, ``every_frame``). Frame times come from the registered
   image names (``t000123.450.jpg``, :func:`frame_time`).
3. **2D point** p_i (pixels, COLMAP convention): ``center`` = the frame centre; ``hand`` = the
   per-second hand cue (T, 3) rows score, x, y in [0, 1] (row ``floor(time)``; no hand — score
   below ``min_hand_score`` — no pair); ``similarity`` = the argmax of a text–image similarity map
   from a model at a user path (:mod:`instructvid.scene.ground_similarity`).
4. **Back-projection**: among the model's 3D points in front of the camera that project within
   ``radius_px`` of p_i, the one of smallest depth (:func:`back_project`), mapped into the
   reference frame by the alignment graph's similarity.

Segments without a frame, a point or a hit are dropped and counted (:class:`PairCounts`).
Radial distortion of the COLMAP cameras is ignored (pinhole projection with their K).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from instructvid.scene.similarity import Similarity
from instructvid.types import PathLike

__all__ = [
    "Frame",
    "GroundConf",
    "Pair",
    "PairCounts",
    "SceneModels",
    "Segment",
    "VideoModel",
    "attach_frames",
    "back_project",
    "build_pairs",
    "frame_time",
    "load_scene",
    "read_segments",
]

_TIME_NAME = re.compile(r"^t(\d+(?:\.\d+)?)\.(?:jpe?g|png)$", re.IGNORECASE)


@dataclass(frozen=True)
class GroundConf:
    """How pairs are made (defaults in one place)."""

    points: str = "center"  # center | hand | similarity
    window: int | None = None  # words per segment; None: one subtitle cue per segment
    every_frame: bool = False  # every registered frame inside a segment, not only the nearest
    max_gap_s: float = 1.0  # the nearest frame must lie within this of the segment's mid-time
    radius_px: float = 8.0  # r: a model point projecting within r px of p_i is a hit
    min_hand_score: float = 0.5

    def check(self) -> None:
        if self.points not in ("center", "hand", "similarity"):
            raise ValueError(f"--points must be center, hand or similarity, got {self.points!r}")
        if self.window is not None and self.window < 1:
            raise ValueError("--window must be >= 1 word")
        if self.radius_px <= 0 or self.max_gap_s < 0:
            raise ValueError("--radius must be > 0 pixels and the frame gap >= 0 seconds")


@dataclass(frozen=True)
class Segment:
    """A narration segment of ``video`` spoken from ``start`` to ``end`` seconds."""

    video: str
    text: str
    start: float
    end: float

    @property
    def mid(self) -> float:
        return 0.5 * (self.start + self.end)


@dataclass(frozen=True, eq=False)
class Frame:
    """A registered frame: its name, time (s), K (3, 3), cam_from_model R (3, 3), t (3,), size."""

    name: str
    time: float | None
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    width: int
    height: int


@dataclass(eq=False)
class VideoModel:
    """One model of a video: registered frames, its (P, 3) points and x_ref = to_ref(x_model)."""

    video: str
    model_id: str
    frames: list[Frame]
    points: np.ndarray
    to_ref: Similarity
    image_dir: Path | None = None  # where the registered images are (for image-based points)


@dataclass(eq=False)
class SceneModels:
    """The models of one scene that the alignment graph connects to its reference."""

    name: str
    reference: str
    models: list[VideoModel]
    dropped_models: list[str] = field(default_factory=list)

    def merged_points(self) -> np.ndarray:
        """(N, 3) every model's points in the reference frame: the common model."""
        pts = [m.to_ref(m.points) for m in self.models if len(m.points)]
        return np.concatenate(pts) if pts else np.zeros((0, 3))

    def camera_centres(self) -> list[tuple[str, float | None, np.ndarray]]:
        """(video, time, centre (3,) in the reference frame) of every registered frame."""
        out = []
        for m in self.models:
            for f in m.frames:
                out.append((m.video, f.time, m.to_ref(-f.R.T @ f.t)))
        return out


@dataclass(frozen=True)
class Pair:
    """A training pair: a segment's text and the 3D point (reference frame) it was grounded to."""

    scene: str
    video: str
    text: str
    time: float
    frame: str
    point: tuple[float, float, float]


@dataclass
class PairCounts:
    """What happened to the segments of a run."""

    segments: int = 0
    no_subtitles: int = 0  # videos without a subtitle file
    no_frame: int = 0
    no_point: int = 0
    no_hit: int = 0
    pairs: int = 0

    def add(self, other: PairCounts) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)


def frame_time(name: str) -> float | None:
    """The time in seconds of a registered image named ``t000123.450.jpg``; None otherwise."""
    m = _TIME_NAME.match(Path(name).name)
    return float(m.group(1)) if m else None


def read_segments(path: PathLike, video: str, *, window: int | None = None) -> list[Segment]:
    """Narration segments of a subtitle file (.vtt, .srt, HowTo100M .json), in time order.

    ``window`` None: one segment per cue (for .json files, per caption line); else consecutive
    non-overlapping windows of ``window`` words of :func:`~instructvid.io.subtitles.read_words`.
    """
    import warnings

    from instructvid.io import subtitles as st

    path = Path(path)
    if window is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", st.EmptySubtitlesWarning)
            words = st.read_words(path, video_id=video)
        return [
            Segment(video, " ".join(w.word for w in chunk), chunk[0].start, chunk[-1].end)
            for chunk in (words[i : i + window] for i in range(0, len(words), window))
        ]
    name = path.name.lower()
    if name.endswith(".vtt"):
        cues = st.read_webvtt(path)
    elif name.endswith(".srt"):
        cues = st.read_srt(path)
    elif name.endswith(".json"):
        cues = st.read_howto100m_json(path, video).get(video, [])
    else:
        raise st.SubtitleFormatError(path, "unknown subtitle format: expected .vtt, .srt or .json")
    out = []
    for cue in cues:
        words = st.cues_to_words([cue])
        if words:
            out.append(Segment(video, " ".join(w.word for w in words), cue.start, cue.end))
    out.sort(key=lambda s: s.start)
    return out


def attach_frames(
    segment: Segment, times: np.ndarray, *, max_gap_s: float = 1.0, every_frame: bool = False
) -> list[int]:
    """Indices into ``times`` (N,) seconds (NaN: unknown) of the frames of a segment.

    The frame nearest the mid-time if within ``max_gap_s``; with ``every_frame``, every frame inside
    [start, end] (or the nearest one when none lies inside).
    """
    t = np.asarray(times, np.float64)
    if not len(t) or not np.isfinite(t).any():
        return []
    if every_frame:
        inside = np.flatnonzero((t >= segment.start) & (t <= segment.end))
        if len(inside):
            return inside.tolist()
    gap = np.abs(np.where(np.isfinite(t), t, np.inf) - segment.mid)
    i = int(np.argmin(gap))
    return [i] if gap[i] <= max_gap_s else []


def back_project(
    point: Sequence[float], frame: Frame, points: np.ndarray, *, radius_px: float
) -> np.ndarray | None:
    """The model point (3,) hit by the ray through pixel ``point`` (u, v) of ``frame``: of the
    (P, 3) ``points`` in front of the camera projecting within ``radius_px`` of it, the one of
    smallest depth; None when none does."""
    if not len(points):
        return None
    cam = points @ frame.R.T + frame.t
    z = cam[:, 2]
    front = z > 1e-9
    safe = np.where(front, z, 1.0)
    u = frame.K[0, 0] * cam[:, 0] / safe + frame.K[0, 1] * cam[:, 1] / safe + frame.K[0, 2]
    v = frame.K[1, 1] * cam[:, 1] / safe + frame.K[1, 2]
    d2 = (u - point[0]) ** 2 + (v - point[1]) ** 2
    hit = front & (d2 <= radius_px**2)
    if not hit.any():
        return None
    idx = np.flatnonzero(hit)
    return points[idx[np.argmin(z[idx])]].copy()


#: A 2D point source: (segment, frame, video model) → pixel (u, v) or None (no point).
PointSource = Callable[[Segment, Frame, VideoModel], "tuple[float, float] | None"]


def center_point(segment: Segment, frame: Frame, model: VideoModel) -> tuple[float, float]:
    """The frame centre (pixels)."""
    return frame.width / 2.0, frame.height / 2.0


def hand_points(hands: dict[str, np.ndarray], min_score: float) -> PointSource:
    """A point source reading per-second hand cues ``{video: (T, 3) score, x, y}``."""

    def source(segment: Segment, frame: Frame, model: VideoModel) -> tuple[float, float] | None:
        cue = hands.get(model.video)
        if cue is None or frame.time is None:
            return None
        row = math.floor(frame.time)
        if not 0 <= row < len(cue) or cue[row, 0] < min_score:
            return None
        return float(cue[row, 1]) * frame.width, float(cue[row, 2]) * frame.height

    return source


def build_pairs(
    scene: SceneModels,
    segments: dict[str, list[Segment]],
    source: PointSource,
    conf: GroundConf,
) -> tuple[list[Pair], PairCounts]:
    """Pairs of one scene from the segments of its videos (``{video: segments}``)."""
    pairs: list[Pair] = []
    counts = PairCounts()
    by_video: dict[str, list[VideoModel]] = {}
    for m in scene.models:
        by_video.setdefault(m.video, []).append(m)
    for video, models in by_video.items():
        segs = segments.get(video)
        if segs is None:
            counts.no_subtitles += 1
            continue
        frames = [(m, f) for m in models for f in m.frames]
        times = np.array([np.nan if f.time is None else f.time for _, f in frames])
        for seg in segs:
            counts.segments += 1
            chosen = attach_frames(
                seg, times, max_gap_s=conf.max_gap_s, every_frame=conf.every_frame
            )
            if not chosen:
                counts.no_frame += 1
                continue
            got_point = got_hit = False
            for i in chosen:
                model, frame = frames[i]
                p = source(seg, frame, model)
                if p is None:
                    continue
                got_point = True
                hit = back_project(p, frame, model.points, radius_px=conf.radius_px)
                if hit is None:
                    continue
                got_hit = True
                ref = model.to_ref(hit)
                pairs.append(
                    Pair(
                        scene.name,
                        video,
                        seg.text,
                        float(frame.time or 0.0),
                        frame.name,
                        tuple(float(x) for x in ref),
                    )
                )
            if not got_point:
                counts.no_point += 1
            elif not got_hit:
                counts.no_hit += 1
    counts.pairs = len(pairs)
    return pairs, counts


def _read_model(path: Path) -> tuple[list[Frame], np.ndarray]:
    import pycolmap

    from instructvid.scene.sfm import quiet_pycolmap

    quiet_pycolmap()
    try:
        rec = pycolmap.Reconstruction(str(path))
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"{path}: not a readable COLMAP model ({exc})") from None
    frames = []
    for image in rec.images.values():
        if not image.has_pose:
            continue
        cam = image.camera
        pose = image.cam_from_world()
        frames.append(
            Frame(
                image.name,
                frame_time(image.name),
                np.asarray(cam.calibration_matrix(), np.float64),
                np.asarray(pose.rotation.matrix(), np.float64),
                np.asarray(pose.translation, np.float64),
                int(cam.width),
                int(cam.height),
            )
        )
    frames.sort(key=lambda f: (f.time is None, f.time or 0.0, f.name))
    pts = np.asarray([p.xyz for p in rec.points3D.values()], np.float64).reshape(-1, 3)
    return frames, pts


def load_scene(
    out: PathLike, graph: PathLike | None = None, *, name: str | None = None
) -> SceneModels:
    """The models of a ``scene reconstruct`` folder ``out`` aligned by its graph (default
    ``out/graph.json``); models the graph does not connect to its reference are left out (named in
    ``dropped_models``). The scene's name is ``name`` or the folder's name (its parent's when the
    folder is called ``recon``)."""
    from instructvid.io.ids import check_id
    from instructvid.scene.reconstruct import load_models

    out = Path(out)
    graph_path = Path(graph) if graph is not None else out / "graph.json"
    if not graph_path.is_file():
        raise ValueError(
            f"{graph_path}: no alignment graph; run 'instructvid scene align {out} --out {graph_path}' first"
        )
    try:
        data = json.loads(graph_path.read_text(encoding="utf-8"))
        reference = data["reference"]
        to_ref = {k: Similarity.from_json(v) for k, v in data["to_reference"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{graph_path}: not an alignment graph with a reference ({exc!r})"
        ) from None
    try:
        refs = load_models(out)
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from None
    scene_name = name or (
        out.resolve().parent.name if out.resolve().name == "recon" else out.resolve().name
    )
    check_id(scene_name, path=out, what="scene name")
    models, dropped = [], []
    for ref in refs:
        if ref.id not in to_ref:
            dropped.append(ref.id)
            continue
        frames, pts = _read_model(ref.path)
        models.append(VideoModel(ref.input, ref.id, frames, pts, to_ref[ref.id], ref.image_dir))
    if not models:
        raise ValueError(
            f"{out}: no model is connected to the reference {reference!r} of {graph_path}"
        )
    return SceneModels(scene_name, reference, models, dropped)
