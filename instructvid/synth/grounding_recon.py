"""The oracle reconstruction of a synthetic grounding scene: what ``scene reconstruct`` + ``scene
align`` would write for a perfect structure from motion, built from the ground truth.

Under ``recon``::

    frames/<video>/t000012.500.jpg   the registered frames
    models/<video>/0/                a COLMAP text model (cameras.txt, images.txt, points3D.txt)
    models/<video>/summary.json      as ``scene reconstruct`` writes it
    graph.json                       the alignment graph, reference = the first video's model

Each video's model holds the surface samples inside the view of one of its registered frames
(with Gaussian noise), expressed in its own random similarity frame (scale 0.3–3, any rotation),
so that grounding has to go through the alignment graph as with real reconstructions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_write_json, atomic_write_text
from instructvid.scene.graph import AlignmentGraph
from instructvid.scene.similarity import Similarity

__all__ = ["random_similarity", "write_oracle_reconstruction"]


def random_similarity(rng: np.random.Generator) -> Similarity:
    """A random similarity: scale in [0.3, 3], a uniformly random rotation, t ~ N(0, 2²)."""
    from scipy.spatial.transform import Rotation

    rot = Rotation.random(random_state=int(rng.integers(2**31))).as_matrix()
    return Similarity(
        float(np.exp(rng.uniform(np.log(0.3), np.log(3.0)))), rot, rng.normal(0, 2, 3)
    )


def _in_view(points: np.ndarray, frames: list[dict], width: int, height: int) -> np.ndarray:
    seen = np.zeros(len(points), bool)
    for f in frames:
        k, rot, trans = (np.asarray(f[x], np.float64) for x in ("K", "R", "t"))
        cam = points @ rot.T + trans
        z = np.maximum(cam[:, 2], 1e-9)
        u = k[0, 0] * cam[:, 0] / z + k[0, 2]
        v = k[1, 1] * cam[:, 1] / z + k[1, 2]
        seen |= (cam[:, 2] > 0.05) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    return seen


def write_oracle_reconstruction(
    recon: Path,
    cameras: dict[str, dict],
    rendered: dict[str, list[np.ndarray]],
    surface: np.ndarray,
    colours: np.ndarray,
    spec,
    rng: np.random.Generator,
) -> Path:
    """Write ``recon`` (layout above) for the videos of one scene; returns ``recon/graph.json``.

    Args:
        cameras: per video, ``{"width", "height", "frames": [{"time", "K", "R", "t"}]}`` (metres).
        rendered: per video, its frames (H, W, 3) uint8 in the order of ``cameras``.
        surface: (N, 3) surface samples, world frame (metres); colours (N, 3) uint8.
        spec: the world's settings (``registered_every_s``, ``registered_drop``, ``point_noise_m``).
    """
    import cv2
    from scipy.spatial.transform import Rotation

    from instructvid.video.decode import frame_name

    graph = AlignmentGraph()
    sims: dict[str, Similarity] = {}
    for video, info in cameras.items():
        frames = info["frames"]
        step = max(1, round(spec.registered_every_s * info["fps"]))
        keep = [i for i in range(0, len(frames), step) if rng.random() >= spec.registered_drop]
        if len(keep) < 2:
            keep = list(range(0, len(frames), step))[:2]
        reg = [frames[i] for i in keep]
        sim = random_similarity(rng)
        sims[video] = sim
        seen = _in_view(surface, reg, info["width"], info["height"])
        pts = surface[seen] + rng.normal(0, spec.point_noise_m, (int(seen.sum()), 3))
        model_pts = sim(pts)
        image_dir = recon / "frames" / video
        image_dir.mkdir(parents=True, exist_ok=True)
        lines = []
        names = []
        for j, (i, f) in enumerate(zip(keep, reg, strict=True), start=1):
            name = frame_name(f["time"])
            names.append(name)
            _ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rendered[video][i], cv2.COLOR_RGB2BGR))
            with atomic_open(image_dir / name, "wb") as fh:
                fh.write(buf.tobytes())
            rot_w, t_w = np.asarray(f["R"]), np.asarray(f["t"])
            # x_cam = R x_w + t and x_m = s R0 x_w + t0  ⇒  s x_cam = (R R0ᵀ) x_m + (s t − R R0ᵀ t0)
            rot = rot_w @ sim.R.T
            trans = sim.scale * t_w - rot @ sim.t
            qx, qy, qz, qw = Rotation.from_matrix(rot).as_quat()
            pose = " ".join(f"{float(x):.9g}" for x in (qw, qx, qy, qz, *trans))
            lines.append(f"{j} {pose} 1 {name}\n\n")
        k = np.asarray(reg[0]["K"])
        model = recon / "models" / video / "0"
        atomic_write_text(
            model / "cameras.txt",
            f"1 PINHOLE {info['width']} {info['height']} "
            + " ".join(f"{float(x):.9g}" for x in (k[0, 0], k[1, 1], k[0, 2], k[1, 2]))
            + "\n",
        )
        atomic_write_text(model / "images.txt", "".join(lines))
        cols = colours[seen]
        atomic_write_text(
            model / "points3D.txt",
            "".join(
                f"{n + 1} {p[0]:.6g} {p[1]:.6g} {p[2]:.6g} {c[0]} {c[1]} {c[2]} 0\n"
                for n, (p, c) in enumerate(zip(model_pts.tolist(), cols.tolist(), strict=True))
            ),
        )
        atomic_write_json(
            recon / "models" / video / "summary.json",
            {
                "name": video,
                "source": str((recon.parent / "videos" / f"{video}.mp4").resolve()),
                "kind": "video",
                "image_dir": str(image_dir.resolve()),
                "features": f"features/{video}.npz",
                "frames": len(names),
                "frame_names": names,
                "models": [
                    {
                        "id": f"{video}/0",
                        "path": f"models/{video}/0",
                        "images": len(names),
                        "points": len(model_pts),
                    }
                ],
                "registered_images": len(names),
                "points3D": len(model_pts),
                "run_id": f"oracle-{video}",
                "oracle": "built from the ground truth by synth grounding",
            },
        )
        graph.add_node(f"{video}/0", images=len(names), points=len(model_pts))
    videos = list(cameras)
    ref = f"{videos[0]}/0"
    for video in videos[1:]:
        # x_ref = S_ref(S_v⁻¹(x_v))
        graph.add_edge(f"{video}/0", ref, sims[videos[0]] @ sims[video].inverse(), 1000)
    data = graph.to_json(reference=ref)
    data["method"] = "oracle"
    data["reconstruction"] = str(recon.resolve())
    return atomic_write_json(recon / "graph.json", data)
