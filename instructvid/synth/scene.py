"""Synthetic 3D scenes: several "videos" of one textured engine-bay-like scene, rendered headless.

:func:`render_scene` writes, under ``out``::

    videos/<name>/0000.png, 0001.png, …   the frames of each video (a folder of images)
    videos/<name>.mp4                     the same frames as a video (only with ``write_mp4``)
    scene.json                            ground truth: cameras and 3D keypoints, in metres
    keypoints.json                        a keypoint file for ``instructvid scene transfer``

The scene is an engine bay: a floor and a firewall with rich procedural textures and parts on the
floor (boxes and cylinders: battery, air-filter box, fuse box, reservoirs, oil cap, strut towers…),
each with its own texture so that SIFT finds many distinctive features. Each video follows its own
camera path (an arc around the bay at its own azimuth, height, distance and zoom) and changes the
appearance: light direction and strength, a white-balance tint, recoloured parts and, in some
videos, a swapped part (the same box with another texture, as another car of the same model would
show another brand of air filter).

Conventions (those of COLMAP, documented in ``docs/scene.md``): world units are **metres**, z up;
a camera is ``cam_from_world`` = (R, t) with ``x_cam = R · x_world + t``, the camera looking along
+z, x to the right and y down in the image; pixel coordinates have the top-left *corner* of the
image at (0, 0), so the centre of the top-left pixel is (0.5, 0.5), and ``u = fx · x/z + cx``.

``keypoints.json`` holds, for every video, the 2D positions of the visible ground-truth keypoints
in a few frames (``annotated_frames`` per video, evenly spread, visibility checked against the
depth buffer), the name of the source video and ``reference_3d``: the keypoints' coordinates in
metres, which gives each reconstruction its metric scale. Rendering uses moderngl on a headless
EGL context (llvmpipe on a CPU-only machine). Everything is deterministic for a given seed: the
same seed and settings give byte-identical frames in any process, whatever the machine's load
(no iteration over sets or dicts keyed by hashed strings feeds the random draws; tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_open, atomic_write_json

__all__ = ["KEYPOINT_NAMES", "SceneSpec", "look_at", "render_scene"]


@dataclass(frozen=True)
class _Part:
    name: str
    kind: str  # "box" | "cylinder"
    centre: tuple[float, float]  # x, y on the floor (m)
    size: tuple[float, float, float]  # box: (sx, sy, sz); cylinder: (radius, radius, height)


# The bay: x from -0.8 to 0.8 (left-right), y from -0.5 (front) to 0.5 (firewall), z up.
_PARTS: tuple[_Part, ...] = (
    _Part("battery", "box", (-0.50, 0.10), (0.26, 0.18, 0.20)),
    _Part("air_filter_box", "box", (0.45, 0.15), (0.36, 0.28, 0.16)),
    _Part("fuse_box", "box", (-0.50, -0.25), (0.18, 0.14, 0.10)),
    _Part("engine_cover", "box", (0.00, 0.00), (0.50, 0.36, 0.22)),
    _Part("coolant_reservoir", "cylinder", (0.55, -0.25), (0.08, 0.08, 0.18)),
    _Part("brake_fluid_reservoir", "cylinder", (-0.20, 0.35), (0.06, 0.06, 0.12)),
    _Part("oil_cap", "cylinder", (0.10, -0.08), (0.045, 0.045, 0.26)),
    _Part("strut_left", "cylinder", (-0.70, 0.35), (0.09, 0.09, 0.14)),
    _Part("strut_right", "cylinder", (0.72, 0.38), (0.09, 0.09, 0.14)),
    _Part("washer_tank", "box", (0.20, -0.38), (0.22, 0.10, 0.12)),
)

#: Ground-truth keypoints (metres): named points on the parts, as in the thesis's car-engine set.
_KEYPOINTS: dict[str, tuple[float, float, float]] = {
    "battery_positive": (-0.57, 0.06, 0.20),
    "battery_negative": (-0.43, 0.14, 0.20),
    "air_filter": (0.45, 0.15, 0.16),
    "fuse_box": (-0.50, -0.25, 0.10),
    "dipstick": (0.10, -0.08, 0.26),
    "coolant_cap": (0.55, -0.25, 0.18),
    "brake_fluid_cap": (-0.20, 0.35, 0.12),
    "washer_cap": (0.27, -0.38, 0.12),
    "engine_cover_front": (0.0, -0.18, 0.22),
}
KEYPOINT_NAMES: tuple[str, ...] = tuple(_KEYPOINTS)


@dataclass(frozen=True)
class SceneSpec:
    """Parameters of a synthetic scene (keyword-only defaults; everything seeded)."""

    n_videos: int = 6
    n_frames: int = 30
    width: int = 640
    height: int = 480
    fps: float = 10.0
    seed: int = 0
    annotated_frames: int = 6
    annotation_noise_px: float = 1.5  # std of Gaussian noise on annotated 2D keypoints
    drift: float = 0.0  # appearance drift across videos in [0, 1] (see render_scene)
    arc_degrees: float = 70.0
    write_mp4: bool = False
    photo_textures: Sequence[np.ndarray] = field(default_factory=tuple)

    def check(self) -> None:
        if self.n_videos < 1 or self.n_frames < 2:
            raise ValueError("a synthetic scene needs n_videos >= 1 and n_frames >= 2")
        if self.width < 64 or self.height < 48:
            raise ValueError("images must be at least 64 x 48 pixels")


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------
def look_at(
    eye: np.ndarray, target: np.ndarray, up=(0.0, 0.0, 1.0)
) -> tuple[np.ndarray, np.ndarray]:
    """``cam_from_world`` (R (3, 3), t (3,)) of a camera at ``eye`` looking at ``target``.

    COLMAP convention: camera z forward, x right, y down in the image.
    """
    eye = np.asarray(eye, float)
    z = np.asarray(target, float) - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, np.asarray(up, float))
    if np.linalg.norm(x) < 1e-9:
        raise ValueError("look_at: viewing direction parallel to the up vector")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    rot = np.stack([x, y, z])
    return rot, -rot @ eye


def _box(size: tuple[float, float, float], centre: tuple[float, float]) -> np.ndarray:
    """Triangles of a box on the floor: (M, 8) rows of position(3), normal(3), uv(2)."""
    sx, sy, sz = size[0] / 2, size[1] / 2, size[2]
    cx, cy = centre
    faces = [  # (normal, 4 corners counter-clockwise seen from outside)
        ((0, 0, 1), [(-sx, -sy, sz), (sx, -sy, sz), (sx, sy, sz), (-sx, sy, sz)]),
        ((0, -1, 0), [(-sx, -sy, 0), (sx, -sy, 0), (sx, -sy, sz), (-sx, -sy, sz)]),
        ((1, 0, 0), [(sx, -sy, 0), (sx, sy, 0), (sx, sy, sz), (sx, -sy, sz)]),
        ((0, 1, 0), [(sx, sy, 0), (-sx, sy, 0), (-sx, sy, sz), (sx, sy, sz)]),
        ((-1, 0, 0), [(-sx, sy, 0), (-sx, -sy, 0), (-sx, -sy, sz), (-sx, sy, sz)]),
    ]
    rows = []
    for k, (normal, corners) in enumerate(faces):
        # each face uses its own cell of a 3 x 2 atlas, so faces do not repeat one another
        u0, v0 = (k % 3) / 3.0, (k // 3) / 2.0
        uvs = [(u0, v0), (u0 + 1 / 3, v0), (u0 + 1 / 3, v0 + 0.5), (u0, v0 + 0.5)]
        quad = [(np.add(c, (cx, cy, 0.0)), uv) for c, uv in zip(corners, uvs, strict=True)]
        for i in (0, 1, 2, 0, 2, 3):
            p, uv = quad[i]
            rows.append([*p, *normal, *uv])
    return np.asarray(rows, np.float32)


def _cylinder(radius: float, height: float, centre: tuple[float, float], n: int = 40) -> np.ndarray:
    cx, cy = centre
    rows = []
    for i in range(n):
        a0, a1 = 2 * math.pi * i / n, 2 * math.pi * (i + 1) / n
        p = [(math.cos(a), math.sin(a)) for a in (a0, a1)]
        u = [i / n, (i + 1) / n]
        quad = [
            (
                (cx + radius * p[0][0], cy + radius * p[0][1], 0.0),
                (p[0][0], p[0][1], 0.0),
                (u[0] * 2 / 3, 0.0),
            ),
            (
                (cx + radius * p[1][0], cy + radius * p[1][1], 0.0),
                (p[1][0], p[1][1], 0.0),
                (u[1] * 2 / 3, 0.0),
            ),
            (
                (cx + radius * p[1][0], cy + radius * p[1][1], height),
                (p[1][0], p[1][1], 0.0),
                (u[1] * 2 / 3, 1.0),
            ),
            (
                (cx + radius * p[0][0], cy + radius * p[0][1], height),
                (p[0][0], p[0][1], 0.0),
                (u[0] * 2 / 3, 1.0),
            ),
        ]
        for j in (0, 1, 2, 0, 2, 3):
            pos, nor, uv = quad[j]
            rows.append([*pos, *nor, *uv])
        # top cap: a fan mapped onto the right third of the texture
        cap = [
            ((cx, cy, height), (5 / 6, 0.5)),
            (
                (cx + radius * p[0][0], cy + radius * p[0][1], height),
                (5 / 6 + p[0][0] / 6, 0.5 + p[0][1] / 2),
            ),
            (
                (cx + radius * p[1][0], cy + radius * p[1][1], height),
                (5 / 6 + p[1][0] / 6, 0.5 + p[1][1] / 2),
            ),
        ]
        for pos, uv in cap:
            rows.append([*pos, 0.0, 0.0, 1.0, *uv])
    return np.asarray(rows, np.float32)


def _plane(corners: Sequence[Sequence[float]], normal: Sequence[float]) -> np.ndarray:
    uvs = [(0, 0), (1, 0), (1, 1), (0, 1)]
    return np.asarray([[*corners[i], *normal, *uvs[i]] for i in (0, 1, 2, 0, 2, 3)], np.float32)


# --------------------------------------------------------------------------------------------
# Textures
# --------------------------------------------------------------------------------------------
def _procedural_texture(rng: np.random.Generator, size: int, base_colour: np.ndarray) -> np.ndarray:
    """A rich RGB uint8 texture: multi-octave value noise, shapes, strokes and labels."""
    import cv2

    img = np.zeros((size, size, 3), np.float32)
    for cells, weight in ((4, 0.35), (12, 0.25), (40, 0.2), (120, 0.12)):
        grid = rng.random((cells, cells, 3)).astype(np.float32)
        img += weight * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img * base_colour[None, None, :] * 1.4, 0, 1)
    img = (img * 255).astype(np.uint8)
    n_shapes = int(size * size / 2500)
    for _ in range(n_shapes):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(0, 4)
        x, y = (int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(size // 80 + 2, size // 14 + 3))
        if kind == 0:
            cv2.circle(img, (x, y), r, colour, -1, cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(img, (x, y), (x + r, y + int(r * rng.uniform(0.4, 1.6))), colour, -1)
        elif kind == 2:
            x2, y2 = (int(v) for v in rng.integers(0, size, 2))
            cv2.line(img, (x, y), (x2, y2), colour, int(rng.integers(1, 4)), cv2.LINE_AA)
        else:
            text = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(2, 6))))
            cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, r / 18, colour, 2, cv2.LINE_AA)
    return img


def _photo_texture(rng: np.random.Generator, photo: np.ndarray, size: int) -> np.ndarray:
    """A random crop of a real photograph, resized to ``size`` (RGB uint8)."""
    import cv2

    photo = np.asarray(photo)
    if photo.ndim == 2:
        photo = np.repeat(photo[:, :, None], 3, axis=2)
    photo = photo[:, :, :3]
    h, w = photo.shape[:2]
    side = int(min(h, w) * rng.uniform(0.6, 1.0))
    y0, x0 = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = np.ascontiguousarray(photo[y0 : y0 + side, x0 : x0 + side])
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------
_VERTEX = """
#version 330
uniform mat4 mvp;
in vec3 in_pos; in vec3 in_normal; in vec2 in_uv;
out vec3 v_normal; out vec2 v_uv;
void main() { gl_Position = mvp * vec4(in_pos, 1.0); v_normal = in_normal; v_uv = in_uv; }
"""
_FRAGMENT = """
#version 330
uniform sampler2D tex; uniform vec3 light_dir; uniform float ambient; uniform float diffuse;
uniform vec3 tint;
in vec3 v_normal; in vec2 v_uv; out vec4 f_color;
void main() {
    float shade = ambient + diffuse * max(dot(normalize(v_normal), normalize(light_dir)), 0.0);
    f_color = vec4(texture(tex, v_uv).rgb * tint * shade, 1.0);
}
"""


def _gl_mvp(
    k: np.ndarray,
    rot: np.ndarray,
    trans: np.ndarray,
    w: int,
    h: int,
    near: float = 0.05,
    far: float = 20.0,
) -> np.ndarray:
    """OpenGL clip-from-world for a COLMAP camera; the image is read bottom-up and flipped."""
    view = np.eye(4)
    view[:3, :3], view[:3, 3] = rot, trans
    flip = np.diag([1.0, -1.0, -1.0, 1.0])  # COLMAP camera (y down, z forward) → OpenGL
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    proj = np.array(
        [
            [2 * fx / w, 0, 1 - 2 * cx / w, 0],
            [0, 2 * fy / h, 2 * cy / h - 1, 0],
            [0, 0, -(far + near) / (far - near), -2 * far * near / (far - near)],
            [0, 0, -1, 0],
        ]
    )
    return proj @ flip @ view


def _camera_path(
    rng: np.random.Generator, v: int, spec: SceneSpec
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(K, R, t) for every frame of video ``v``: an arc at its own azimuth, height and zoom."""
    # azimuth 0 = in front of the car (−y); videos spread over a 260° fan from side to side.
    centre_az = -130.0 + 260.0 * (v + 0.5) / spec.n_videos + rng.uniform(-8, 8)
    radius = rng.uniform(1.05, 1.35)
    elevation = math.radians(rng.uniform(38, 55))
    f = spec.width * rng.uniform(0.85, 1.05)
    k = np.array([[f, 0, spec.width / 2], [0, f, spec.height / 2], [0, 0, 1.0]])
    target0 = np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.05, 0.05), 0.08])
    frames = []
    for i in range(spec.n_frames):
        s = i / (spec.n_frames - 1) - 0.5
        az = math.radians(centre_az + spec.arc_degrees * s) - math.pi / 2
        r = radius * (1 + 0.08 * math.sin(2 * math.pi * s))
        eye = np.array(
            [
                r * math.cos(elevation) * math.cos(az),
                r * math.cos(elevation) * math.sin(az),
                0.1 + r * math.sin(elevation) + 0.05 * math.cos(3 * s),
            ]
        )
        target = target0 + np.array([0.12 * math.sin(2.5 * s + v), 0.06 * math.cos(1.7 * s), 0.0])
        rot, trans = look_at(eye, target)
        frames.append((k, rot, trans))
    return frames


def render_scene(out: str | Path, spec: SceneSpec | None = None, **overrides) -> Path:
    """Render the videos of one synthetic scene under ``out`` and return ``out/scene.json``.

    Args:
        out: output folder (created).
        spec: a :class:`SceneSpec`; keyword ``overrides`` replace its fields
            (``render_scene(out, n_videos=3, width=320, height=240)``).

    Skips the work when ``scene.json`` (written last) exists already with the same settings.

    Raises:
        ValueError: ``out`` holds a scene rendered with other settings (named in the message).
    """
    import dataclasses

    import cv2
    import moderngl

    spec = dataclasses.replace(spec or SceneSpec(), **overrides)
    spec.check()
    out = Path(out)
    done = out / "scene.json"
    if done.exists():
        _check_same_scene(done, spec)
        return done
    tex_rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 1]))
    photos = list(spec.photo_textures)

    def texture(size: int, colour) -> np.ndarray:
        if photos and tex_rng.random() < 0.7:
            return _photo_texture(tex_rng, photos[int(tex_rng.integers(len(photos)))], size)
        return _procedural_texture(tex_rng, size, np.asarray(colour, np.float32))

    meshes: dict[str, np.ndarray] = {
        "floor": _plane(
            [(-0.85, -0.55, 0), (0.85, -0.55, 0), (0.85, 0.55, 0), (-0.85, 0.55, 0)], (0, 0, 1)
        ),
        "firewall": _plane(
            [(-0.85, 0.55, 0), (0.85, 0.55, 0), (0.85, 0.55, 0.55), (-0.85, 0.55, 0.55)], (0, -1, 0)
        ),
    }
    textures: dict[str, np.ndarray] = {
        "floor": texture(1024, (0.45, 0.45, 0.5)),
        "firewall": texture(1024, (0.35, 0.35, 0.35)),
    }
    for part in _PARTS:
        if part.kind == "box":
            meshes[part.name] = _box(part.size, part.centre)
        else:
            meshes[part.name] = _cylinder(part.size[0], part.size[2], part.centre)
        textures[part.name] = texture(512, tex_rng.uniform(0.3, 1.0, 3))
    swap_texture = texture(512, (0.9, 0.3, 0.2))
    # appearance drift: every surface has an alternative look; video v shows it for the parts whose
    # threshold u_p <= drift * v / (n - 1), and cross-fades floor and firewall by that amount, so
    # that videos far apart in the sequence look more different than neighbours
    drift_rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 3]))
    alt: dict[str, np.ndarray] = {}
    thresholds: dict[str, float] = {}
    if spec.drift > 0:
        for name, img in textures.items():
            alt[name] = texture(img.shape[0], drift_rng.uniform(0.3, 1.0, 3))
            thresholds[name] = float(drift_rng.uniform(0.05, 1.0))

    ctx = moderngl.create_standalone_context(backend="egl")
    try:
        prog = ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        vaos = {}
        for name, rows in meshes.items():
            vbo = ctx.buffer(rows.tobytes())
            vaos[name] = ctx.vertex_array(prog, [(vbo, "3f 3f 2f", "in_pos", "in_normal", "in_uv")])

        def gl_texture(img: np.ndarray):
            t = ctx.texture(
                (img.shape[1], img.shape[0]), 3, np.ascontiguousarray(img[::-1]).tobytes()
            )
            t.build_mipmaps()
            t.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
            t.anisotropy = 8.0
            return t

        gl_tex = {name: gl_texture(img) for name, img in textures.items()}
        gl_swap = gl_texture(swap_texture)
        w, h = spec.width, spec.height
        fbo = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer((w, h), samples=0)],
            depth_attachment=ctx.depth_renderbuffer((w, h)),
        )
        ctx.enable(moderngl.DEPTH_TEST)
        videos_json: dict[str, dict] = {}
        annotations: dict[str, dict] = {}
        kp_world = np.array(list(_KEYPOINTS.values()))
        for v in range(spec.n_videos):
            name = f"video_{v:02d}"
            rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 2, v]))
            light = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.6, 1.5)])
            ambient, diffuse = float(rng.uniform(0.3, 0.55)), float(rng.uniform(0.45, 0.8))
            white = rng.uniform(0.85, 1.15, 3)
            # A list in the generator's order, never a set: a set of strings iterates in an order
            # that changes from process to process (string hashing is salted), which gave the
            # two recoloured parts each other's tints in another run.
            recoloured = rng.choice([p.name for p in _PARTS], size=2, replace=False).tolist()
            part_tint = {n: rng.uniform(0.5, 1.3, 3) for n in recoloured}
            swapped = "air_filter_box" if v % 3 == 2 else None
            cams = _camera_path(rng, v, spec)
            level = spec.drift * v / max(1, spec.n_videos - 1)
            video_tex, drifted = {}, []
            for pname in alt:
                if pname in ("floor", "firewall"):
                    mix = (1 - level) * textures[pname].astype(np.float32) + level * alt[pname]
                    video_tex[pname] = gl_texture(mix.round().astype(np.uint8))
                elif thresholds[pname] <= level:
                    video_tex[pname] = gl_texture(alt[pname])
                    drifted.append(pname)
            folder = out / "videos" / name
            folder.mkdir(parents=True, exist_ok=True)
            frames_json, images = [], []
            annotate = set(
                np.linspace(0, spec.n_frames - 1, min(spec.annotated_frames, spec.n_frames))
                .round()
                .astype(int)
                .tolist()
            )
            annotations[name] = {}
            for i, (k, rot, trans) in enumerate(cams):
                fbo.use()
                fbo.clear(0.05, 0.05, 0.06, 1.0, depth=1.0)
                prog["mvp"].write(_gl_mvp(k, rot, trans, w, h).T.astype("f4").tobytes())
                prog["light_dir"].value = tuple(light)
                prog["ambient"].value, prog["diffuse"].value = ambient, diffuse
                for pname, vao in vaos.items():
                    tint = white * part_tint.get(pname, 1.0)
                    prog["tint"].value = tuple(float(c) for c in tint)
                    tex = video_tex.get(pname, gl_tex[pname])
                    (gl_swap if pname == swapped else tex).use(0)
                    vao.render(moderngl.TRIANGLES)
                rgb = np.frombuffer(fbo.read(components=3), np.uint8).reshape(h, w, 3)[::-1]
                depth = np.frombuffer(
                    fbo.read(attachment=-1, components=1, dtype="f4"), np.float32
                ).reshape(h, w)[::-1]
                fname = f"{i:04d}.png"
                _ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
                with atomic_open(folder / fname, "wb") as fh:
                    fh.write(buf.tobytes())
                images.append(rgb)
                frames_json.append(
                    {
                        "name": fname,
                        "time": i / spec.fps,
                        "K": k.tolist(),
                        "R": rot.tolist(),
                        "t": trans.tolist(),
                    }
                )
                if i in annotate:
                    vis = _visible_keypoints(kp_world, k, rot, trans, depth, w, h)
                    for key, (u, v_) in vis.items():
                        du, dv = rng.normal(0.0, spec.annotation_noise_px, 2)
                        vis[key] = [float(np.clip(u + du, 0, w)), float(np.clip(v_ + dv, 0, h))]
                    if vis:
                        annotations[name][fname] = vis
            for t in video_tex.values():
                t.release()
            if spec.write_mp4:
                from instructvid.video.decode import write_video

                write_video(out / "videos" / f"{name}.mp4", images, fps=spec.fps)
            videos_json[name] = {
                "width": w,
                "height": h,
                "fps": spec.fps,
                "appearance": {
                    "light_dir": light.tolist(),
                    "ambient": ambient,
                    "diffuse": diffuse,
                    "white_balance": white.tolist(),
                    "recoloured": sorted(recoloured),
                    "swapped": swapped,
                    "drift_level": level,
                    "drifted_parts": drifted,
                },
                "frames": frames_json,
            }
    finally:
        ctx.release()
    source = "video_00"
    atomic_write_json(
        out / "keypoints.json",
        {
            "source": source,
            "keypoints": list(KEYPOINT_NAMES),
            "annotations": annotations,
            "reference_3d": {n: list(p) for n, p in _KEYPOINTS.items()},
            "note": "pixel coordinates, COLMAP convention (centre of the top-left pixel = (0.5, 0.5)); reference_3d in metres",
        },
    )
    return atomic_write_json(
        done,
        {
            "units": "metres",
            "convention": "cam_from_world: x_cam = R x_world + t; u = fx x/z + cx, top-left pixel centre (0.5, 0.5)",
            "spec": {k: v for k, v in dataclasses.asdict(spec).items() if k != "photo_textures"},
            "photo_textures": len(photos),
            "keypoints_3d": {n: list(p) for n, p in _KEYPOINTS.items()},
            "videos": videos_json,
        },
    )


def _spec_json(spec: SceneSpec) -> dict[str, object]:
    """The settings recorded in ``scene.json`` (photo textures by count), as JSON values."""
    import dataclasses
    import json

    fields = {k: v for k, v in dataclasses.asdict(spec).items() if k != "photo_textures"}
    return {**json.loads(json.dumps(fields)), "photo_textures": len(spec.photo_textures)}


def _check_same_scene(done: Path, spec: SceneSpec) -> None:
    import json

    try:
        old = json.loads(done.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{done}: unreadable ({exc}); remove the folder to render again") from None
    recorded = {**old.get("spec", {}), "photo_textures": old.get("photo_textures", 0)}
    wanted = _spec_json(spec)
    differ = [k for k in wanted if recorded.get(k) != wanted[k]]
    if differ:
        details = ", ".join(f"{k}: {recorded.get(k)!r} -> {wanted[k]!r}" for k in differ)
        raise ValueError(
            f"{done.parent} already holds a scene rendered with other settings ({details}); "
            "use another folder"
        )


def _visible_keypoints(
    points: np.ndarray,
    k: np.ndarray,
    rot: np.ndarray,
    trans: np.ndarray,
    depth_buffer: np.ndarray,
    w: int,
    h: int,
    near: float = 0.05,
    far: float = 20.0,
) -> dict:
    """Projections of the keypoints visible in a frame (inside the image and not occluded)."""
    out = {}
    cam = points @ rot.T + trans
    for name, xc in zip(KEYPOINT_NAMES, cam, strict=True):
        if xc[2] <= near:
            continue
        u, v = k[0, 0] * xc[0] / xc[2] + k[0, 2], k[1, 1] * xc[1] / xc[2] + k[1, 2]
        if not (2 <= u < w - 2 and 2 <= v < h - 2):
            continue
        d = depth_buffer[int(v), int(u)]
        z_ndc = 2 * d - 1
        z_buf = 2 * far * near / (far + near - z_ndc * (far - near))
        if z_buf < xc[2] - 0.02:  # something lies in front of the keypoint
            continue
        out[name] = [float(u), float(v)]
    return out
