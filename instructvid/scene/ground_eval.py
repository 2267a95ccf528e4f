"""Evaluation of 3D text grounding (thesis §5.5.2, Fig. 5.7, Table 5.1).

One annotated 3D point per object per scene; object-centric queries (``scene,object,query``). The
prediction of a query is the centre of its top voxel. PCK(τ) = queries within τ of their object /
all queries of all scenes, τ = 1 … 100 cm; per object (``<scene>/<object>``) and per object class
(averaged over scenes, as Table 5.1) at 30 cm. Chance = a uniformly random point of the scene's
common model: its exact expectation, the share of model points within τ of the object.

Objects are given in the reference model's frame (taken as metres), or in a metric world frame
with ground-truth cameras (``GT/<scene>/cameras.json`` as ``synth grounding`` writes it): the
registered frames' centres (reference frame) ↔ the same frames' true centres (world) give, by
Umeyama, the world → reference similarity, hence the objects in the reference frame and the
metric scale of the distances.

:func:`evaluate` writes ``pck.json``, ``table.md`` (beside thesis Table 5.1) and ``pck.png``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from instructvid.io.atomic import atomic_write_json, atomic_write_text
from instructvid.io.errors import FormatError
from instructvid.io.ids import check_id, safe_join
from instructvid.metrics.pck import chance_pck_curve, pck_curve
from instructvid.scene.similarity import DegenerateError, Similarity, umeyama
from instructvid.types import PathLike

__all__ = [
    "THESIS_TABLE_51",
    "camera_fit",
    "evaluate",
    "read_objects",
    "read_queries",
    "world_to_reference",
]

THRESHOLDS_CM: list[float] = [float(t) for t in range(1, 101)]
AT_CM = 30.0

#: Thesis Table 5.1 (PCK at 30 cm): object class → (chance, ours).
THESIS_TABLE_51: dict[str, tuple[float, float]] = {
    "air_filter": (0.26, 0.55),
    "brake_fluid_reservoir": (0.19, 0.23),
    "negative_battery_cable": (0.07, 0.42),
    "positive_battery_cable": (0.05, 0.20),
    "dipstick": (0.40, 0.35),
    "spark_plugs": (0.54, 0.69),
}
THESIS_AVERAGE = (0.29, 0.41)


def read_objects(path: PathLike) -> dict[str, dict[str, np.ndarray]]:
    """``{"<scene>": {"<object>": [x, y, z]}}`` → arrays; FormatError naming the file otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FormatError(path, f"not a readable JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise FormatError(path, 'expected {"<scene>": {"<object>": [x, y, z]}}')
    out: dict[str, dict[str, np.ndarray]] = {}
    for scene, objs in data.items():
        check_id(scene, path=path, what="scene name")
        if not isinstance(objs, dict):
            raise FormatError(path, f"scene {scene!r}: expected an object → [x, y, z] mapping")
        out[scene] = {}
        for name, xyz in objs.items():
            check_id(name, path=path, what="object name")
            arr = np.asarray(xyz, dtype=np.float64) if isinstance(xyz, list) else np.zeros(0)
            if arr.shape != (3,) or not np.isfinite(arr).all():
                raise FormatError(path, f"{scene}/{name}: expected [x, y, z] (3 finite numbers)")
            out[scene][name] = arr
    return out


def read_queries(path: PathLike) -> list[tuple[str, str, str]]:
    """(scene, object, query) rows of a ``scene,object,query`` CSV (header required)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"not a readable CSV file ({exc})") from None
    if not rows or [c.strip() for c in rows[0]] != ["scene", "object", "query"]:
        raise FormatError(path, "expected the header scene,object,query", line=1)
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3 or not row[2].strip():
            raise FormatError(path, "expected 3 columns: scene,object,query", line=i)
        scene = check_id(row[0].strip(), path=path, line=i, what="scene name")
        obj = check_id(row[1].strip(), path=path, line=i, what="object name")
        out.append((scene, obj, row[2].strip()))
    if not out:
        raise FormatError(path, "no query")
    return out


def camera_fit(run: Path, scene: str, gt_cameras: Path) -> tuple[Similarity, dict]:
    """x_ref = S(x_world) and how well the registered cameras agree with the ground truth.

    The registered frames of the run (``RUN/scenes/<scene>/cameras.json``; centres in the
    reference frame) are matched by video and time (within 1 ms; frames sampled by ``scene
    reconstruct`` are named after their time) to the true cameras of
    ``gt_cameras/<scene>/cameras.json``. S is fitted by Umeyama on the centres of the
    **reference model's** frames (the frame the objects are expressed in: an error of another
    model's alignment then costs grounding accuracy instead of bending the fit), or of all frames
    when the reference has fewer than 3 matched frames, a degenerate layout, or the run does not
    record each frame's model.

    Returns:
        S and ``{"fit_on": "reference" | "all", "frames": matched frames, "unmatched": frames
        without a true camera, "rms_cm", "median_cm", "max_cm": distances between S(true centre)
        and the registered centre over all matched frames, in cm (true metres), "per_video":
        {video: {"frames", "rms_cm"}}, "per_model": {model id: {"frames", "rms_cm"}}}`` (a
        misaligned model shows as a large ``rms_cm``).
    """
    path = safe_join(gt_cameras, scene, "cameras.json")
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))["videos"]
        times = {v: np.array([g["time"] for g in info["frames"]]) for v, info in truth.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FormatError(
            path, f"expected ground-truth cameras {{'videos': ...}} ({exc})"
        ) from None
    ours = json.loads((run / "scenes" / scene / "cameras.json").read_text(encoding="utf-8"))
    reference = ours.get("reference")
    rows = []  # (video, is reference, true centre, registered centre, model)
    unmatched = 0
    for f in ours["frames"]:
        video, t = f["video"], f["time"]
        if t is None or video not in truth or not len(times[video]):
            unmatched += 1
            continue
        j = int(np.argmin(np.abs(times[video] - t)))
        if abs(times[video][j] - t) > 1e-3:
            unmatched += 1
            continue
        g = truth[video]["frames"][j]
        rot, trans = np.asarray(g["R"], np.float64), np.asarray(g["t"], np.float64)
        model = f.get("model")
        rows.append((video, model == reference, -rot.T @ trans, np.asarray(f["centre"]), model))
    src = np.asarray([r[2] for r in rows]).reshape(-1, 3)
    dst = np.asarray([r[3] for r in rows]).reshape(-1, 3)
    on_ref = np.array([r[1] for r in rows], bool)
    sim, fit_on = None, "all"
    if on_ref.sum() >= 3:
        try:
            sim, fit_on = umeyama(src[on_ref], dst[on_ref]), "reference"
        except DegenerateError:
            sim = None
    if sim is None:
        try:
            sim = umeyama(src, dst)
        except DegenerateError as exc:
            raise ValueError(
                f"{path}: cannot fit the world → reference similarity ({exc})"
            ) from None
    err_cm = np.linalg.norm(sim(src) - dst, axis=1) * 100.0 / sim.scale
    per_video = {}
    for video in sorted({r[0] for r in rows}):
        sel = np.array([r[0] == video for r in rows])
        per_video[video] = {
            "frames": int(sel.sum()),
            "rms_cm": float(np.sqrt(np.mean(err_cm[sel] ** 2))),
        }
    per_model = {}
    for model in sorted({r[4] for r in rows if r[4] is not None}):
        sel = np.array([r[4] == model for r in rows])
        per_model[model] = {
            "frames": int(sel.sum()),
            "rms_cm": float(np.sqrt(np.mean(err_cm[sel] ** 2))),
        }
    return sim, {
        "fit_on": fit_on,
        "frames": len(rows),
        "unmatched": unmatched,
        "rms_cm": float(np.sqrt(np.mean(err_cm**2))),
        "median_cm": float(np.median(err_cm)),
        "max_cm": float(err_cm.max()),
        "per_video": per_video,
        "per_model": per_model,
    }


def world_to_reference(run: Path, scene: str, gt_cameras: Path) -> Similarity:
    """x_ref = S(x_world), see :func:`camera_fit`."""
    return camera_fit(run, scene, gt_cameras)[0]


def _errors(run: Path, objects, queries, gt_cameras, device: str):
    """Per query: (scene, object, error in cm, chance curve (T,)); per scene the camera fit."""
    from instructvid.scene.ground_run import load_run

    summary, model, voxels = load_run(run, device=device)
    rows, fits = [], {}
    for scene in sorted({q[0] for q in queries}):
        if scene not in summary["scenes"]:
            raise ValueError(
                f"queries name scene {scene!r}, not in the run ({', '.join(summary['scenes'])})"
            )
        if scene not in objects:
            raise ValueError(f"no objects of scene {scene!r} in the objects file")
        if gt_cameras is not None:
            sim, fits[scene] = camera_fit(run, scene, Path(gt_cameras))
            to_cm = 100.0 / sim.scale  # reference units → cm
            obj_ref = {o: sim(p) for o, p in objects[scene].items()}
        else:
            to_cm, obj_ref = 100.0, objects[scene]
        common = np.load(run / "scenes" / scene / "points.npy").astype(np.float64)
        qs = [q for q in queries if q[0] == scene]
        for _s, obj, _t in qs:
            if obj not in obj_ref:
                raise ValueError(
                    f"query object {obj!r} of scene {scene!r} is not in the objects file"
                )
        probs = model.scores([q[2] for q in qs], scene)
        centres = voxels[scene].centres()[probs.argmax(axis=1)]
        for (_s, obj, _t), c in zip(qs, centres, strict=True):
            err = float(np.linalg.norm(c - obj_ref[obj])) * to_cm
            chance = chance_pck_curve(common * to_cm, obj_ref[obj] * to_cm, THRESHOLDS_CM)
            rows.append((scene, obj, err, chance))
    return summary, rows, fits


def _summarise(summary: dict, rows) -> dict:
    at = THRESHOLDS_CM.index(AT_CM)
    errors = np.array([r[2] for r in rows])
    chance = np.array([r[3] for r in rows])
    per_object, per_class, chance_class = {}, {}, {}
    for key in sorted({(r[0], r[1]) for r in rows}):
        sel = [i for i, r in enumerate(rows) if (r[0], r[1]) == key]
        per_object[f"{key[0]}/{key[1]}"] = float(np.mean(errors[sel] <= AT_CM))
    for obj in sorted({r[1] for r in rows}):
        keys = [k for k in per_object if k.split("/", 1)[1] == obj]
        per_class[obj] = float(np.mean([per_object[k] for k in keys]))
        scenes = [k.split("/", 1)[0] for k in keys]
        chance_class[obj] = float(
            np.mean(
                [
                    np.mean([chance[i, at] for i, r in enumerate(rows) if (r[0], r[1]) == (s, obj)])
                    for s in scenes
                ]
            )
        )
    return {
        "metric": "pck",
        "method": summary["method"],
        "thresholds_cm": [int(t) for t in THRESHOLDS_CM],
        "curve": pck_curve(errors, THRESHOLDS_CM).tolist(),
        "per_object": per_object,
        "mean": float(np.mean(errors <= AT_CM)),
        "chance": {
            "curve": chance.mean(axis=0).tolist(),
            "mean": float(chance[:, at].mean()),
            "per_class": chance_class,
        },
        "per_class": per_class,
        "class_average": float(np.mean(list(per_class.values()))),
        "queries": len(rows),
        "at_cm": AT_CM,
    }


def _table(result: dict) -> str:
    classes = list(THESIS_TABLE_51) + [c for c in result["per_class"] if c not in THESIS_TABLE_51]
    head = "| PCK at 30 cm | " + " | ".join(c.replace("_", " ") for c in classes) + " | Average |"
    sep = "|---" * (len(classes) + 2) + "|"

    def fmt(v):
        return "–" if v is None else f"{v:.2f}"

    def row(label, values, avg):
        return f"| {label} | " + " | ".join(fmt(v) for v in values) + f" | {fmt(avg)} |"

    ours = [result["per_class"].get(c) for c in classes]
    chance = [result["chance"]["per_class"].get(c) for c in classes]
    return "\n".join(
        [
            head,
            sep,
            row(
                "Chance (thesis Table 5.1)",
                [THESIS_TABLE_51.get(c, (None, None))[0] for c in classes],
                THESIS_AVERAGE[0],
            ),
            row(
                "Ours (thesis Table 5.1)",
                [THESIS_TABLE_51.get(c, (None, None))[1] for c in classes],
                THESIS_AVERAGE[1],
            ),
            row(
                "Chance (this run, exact)",
                chance,
                float(np.mean([c for c in chance if c is not None])),
            ),
            row(f"This run ({result['method']})", ours, result["class_average"]),
            "",
            f"{result['queries']} queries; PCK over all queries at 30 cm: {result['mean']:.2f} "
            f"(chance {result['chance']['mean']:.2f}). Averages are over object classes, as in the thesis.",
            "",
        ]
    )


def evaluate(
    run: PathLike,
    objects: PathLike,
    queries: PathLike,
    out: PathLike,
    *,
    gt_cameras: PathLike | None = None,
    also: list[PathLike] | None = None,
    device: str = "cpu",
) -> Path:
    """Write ``out/pck.json``, ``out/table.md`` and ``out/pck.png``; returns the JSON's path.

    ``also``: other runs drawn on the same plot (e.g. other point sources), evaluated alike.
    """
    from instructvid.scene.evaluate import plot_pck_curves

    run, out = Path(run), Path(out)
    objs, qs = read_objects(objects), read_queries(queries)
    summary, rows, fits = _errors(run, objs, qs, gt_cameras, device)
    result = _summarise(summary, rows)
    if fits:
        result["cameras"] = fits
    curves = {result["method"]: result["curve"]}
    for other in also or []:
        s2, r2, _fits = _errors(Path(other), objs, qs, gt_cameras, device)
        label = s2["method"]
        while label in curves:
            label += " "
        curves[label] = _summarise(s2, r2)["curve"]
        result.setdefault("also", {})[label.strip()] = curves[label]
    curves["chance"] = result["chance"]["curve"]
    atomic_write_text(out / "table.md", _table(result))
    plot_pck_curves(
        curves, THRESHOLDS_CM, out / "pck.png", title="3D text grounding (cf. thesis Fig. 5.7)"
    )
    return atomic_write_json(out / "pck.json", result)
