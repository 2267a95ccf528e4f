"""The report of a scene output folder (``scene reconstruct``, ``align``, ``transfer``,
``compare``): point-cloud snapshots with cameras and transferred keypoints, the numbers of the
folder's JSON files, and its own figures and overlays."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.report.runs import figures
from instructvid.report.runs.page import Page, dict_table, read_json, table

__all__ = ["read_ply", "scene_report"]


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Points (N, 3) and colours (N, 3) uint8 (or None) of a binary little-endian PLY as the
    project writes it (``scene.graph.write_ply``).

    Raises:
        ValueError: another PLY layout (named).
    """
    raw = Path(path).read_bytes()
    end = raw.find(b"end_header\n")
    if not raw.startswith(b"ply") or end < 0:
        raise ValueError(f"{path}: not a PLY file")
    header = raw[:end].decode("ascii", "replace").splitlines()
    if "format binary_little_endian 1.0" not in header:
        raise ValueError(f"{path}: only binary little-endian PLY is read")
    n = next(int(h.split()[2]) for h in header if h.startswith("element vertex"))
    props = [h.split()[-1] for h in header if h.startswith("property")]
    types = {"x": "<f4", "y": "<f4", "z": "<f4", "red": "u1", "green": "u1", "blue": "u1"}
    if any(p not in types for p in props):
        raise ValueError(f"{path}: unexpected PLY properties {props}")
    rec = np.frombuffer(raw, dtype=[(p, types[p]) for p in props], count=n, offset=end + 11)
    pts = np.stack([rec["x"], rec["y"], rec["z"]], axis=1)
    cols = np.stack([rec["red"], rec["green"], rec["blue"]], axis=1) if "red" in props else None
    return pts, cols


def _cameras(data: dict) -> np.ndarray | None:
    """Camera centres (C, 3) listed in a JSON beside the cloud (``cameras: {id: {center}}``)."""
    cams = data.get("cameras")
    if not isinstance(cams, dict):
        return None
    centres = [v["center"] for v in cams.values() if isinstance(v, dict) and "center" in v]
    return np.asarray(centres, float) if centres else None


def scene_report(run: Path, *, out: Path | None = None) -> Path:
    """Write the report of a scene output folder (``RUN/report.html`` unless ``out``)."""
    page = Page(run, f"scene — {run.name}")
    for ply in sorted(run.rglob("*.ply"))[:4]:
        try:
            pts, cols = read_ply(ply)
        except (ValueError, KeyError):
            continue
        meta = read_json(ply.with_suffix(".json"), {}) or {}
        marked = None
        pck = read_json(run / "pck.json", {}) or {}
        if isinstance(pck.get("transferred_3d"), list):
            marked = np.asarray(pck["transferred_3d"], float)
        fig = figures.point_cloud(
            pts, colors=cols, cameras=_cameras(meta), marked=marked, title=ply.name
        )
        page.add(
            f"Point cloud {ply.relative_to(run)}", page.figure(fig, f"cloud_{ply.stem}", ply.name)
        )
    for name in ("reconstruct.json", "pck.json", "fig56.json"):
        data = read_json(run / name)
        if isinstance(data, dict):
            rows = [(k, v[:120]) for k, v in dict_table(data)][:80]
            page.add(name, table(("key", "value"), rows))
    own = sorted(run.glob("*.png"))
    if (run / "overlays").is_dir():
        own += sorted((run / "overlays").glob("*.png"))[:6]
    if own:
        page.add(
            "Figures and overlays", "\n\n".join(f"![{p.stem}]({p.relative_to(run)})" for p in own)
        )
    return page.write(out)
