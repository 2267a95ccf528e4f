"""Heat-map overlays of a grounding on a video's frames (as thesis Fig. 5.8).

Every kept voxel of the scene is projected into the frame (reference frame → the video's model by
the inverse of its similarity → its camera) and drawn as a red disc of the voxel's projected size,
its opacity the voxel's score relative to the best one; an annotated object point (reference
frame) is drawn as a green dot. Also :func:`to_video_frame`: a reference-frame point in a video's
model frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open
from instructvid.scene.grounding import SceneModels, VideoModel
from instructvid.types import PathLike

__all__ = ["draw_overlay", "overlay_frames", "to_video_frame"]


def to_video_frame(point_ref: np.ndarray, model: VideoModel) -> np.ndarray:
    """(3,) or (N, 3) reference-frame points in ``model``'s own frame."""
    return model.to_ref.inverse()(np.asarray(point_ref, np.float64))


def draw_overlay(
    image: np.ndarray,
    frame,
    model: VideoModel,
    centres_ref: np.ndarray,
    scores: np.ndarray,
    voxel_size: float,
    *,
    object_ref: np.ndarray | None = None,
) -> np.ndarray:
    """The RGB ``image`` (H, W, 3) uint8 with the voxel heat map (red) and the object (green)."""
    import cv2

    img = image.astype(np.float32)
    pts = to_video_frame(centres_ref, model).reshape(-1, 3)
    cam = pts @ frame.R.T + frame.t
    size = voxel_size / model.to_ref.scale  # a voxel's edge in model units
    weight = np.asarray(scores, np.float64) / max(float(np.max(scores)), 1e-12)
    for order in np.argsort(weight):  # strongest drawn last
        z = cam[order, 2]
        if z <= 1e-6 or weight[order] < 0.05:
            continue
        u = frame.K[0, 0] * cam[order, 0] / z + frame.K[0, 2]
        v = frame.K[1, 1] * cam[order, 1] / z + frame.K[1, 2]
        r = max(1, round(0.5 * frame.K[0, 0] * size / z))
        if not (-r <= u < frame.width + r and -r <= v < frame.height + r):
            continue
        mask = np.zeros(img.shape[:2], np.uint8)
        cv2.circle(mask, (int(u), int(v)), r, 1, -1)
        a = 0.75 * weight[order] * mask[:, :, None]
        img = img * (1 - a) + a * np.array([255.0, 0.0, 0.0])
    out = img.clip(0, 255).astype(np.uint8)
    if object_ref is not None:
        c = to_video_frame(object_ref, model) @ frame.R.T + frame.t
        if c[2] > 1e-6:
            u = frame.K[0, 0] * c[0] / c[2] + frame.K[0, 2]
            v = frame.K[1, 1] * c[1] / c[2] + frame.K[1, 2]
            radius = max(2, out.shape[1] // 80)
            cv2.circle(out, (int(u), int(v)), radius, (0, 255, 0), -1, cv2.LINE_AA)
    return out


def overlay_frames(
    scene: SceneModels,
    video: str,
    centres_ref: np.ndarray,
    scores: np.ndarray,
    voxel_size: float,
    out: PathLike,
    *,
    n_frames: int = 3,
    object_ref: np.ndarray | None = None,
) -> list[Path]:
    """Overlays on ``n_frames`` evenly spread registered frames of ``video``: ``out/<frame>.png``."""
    import cv2

    models = [m for m in scene.models if m.video == video]
    if not models:
        videos = sorted({m.video for m in scene.models})
        raise ValueError(
            f"no aligned model of video {video!r} in scene {scene.name}; videos: {videos}"
        )
    model = models[0]
    if model.image_dir is None:
        raise ValueError(f"video {video!r}: the folder of its registered images is unknown")
    picks = np.unique(np.linspace(0, len(model.frames) - 1, max(1, n_frames)).round().astype(int))
    paths = []
    for i in picks:
        frame = model.frames[int(i)]
        bgr = cv2.imread(str(Path(model.image_dir) / frame.name), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"{Path(model.image_dir) / frame.name}: image missing or unreadable")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        drawn = draw_overlay(
            rgb, frame, model, centres_ref, scores, voxel_size, object_ref=object_ref
        )
        path = Path(out) / f"{Path(frame.name).stem}.png"
        _ok, buf = cv2.imencode(".png", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
        with atomic_open(path, "wb") as fh:
            fh.write(buf.tobytes())
        paths.append(path)
    return paths
