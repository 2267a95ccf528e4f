"""``atomic_save_figure``: a PNG at the asked resolution, the figure closed, no temporary left."""

from __future__ import annotations

import struct
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from instructvid.io.atomic import atomic_save_figure


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_saves_png_at_dpi_and_closes_the_figure(tmp_path: Path) -> None:
    sizes = {}
    for dpi in (None, 50, 120):
        fig, ax = plt.subplots(figsize=(2.0, 1.0), dpi=80)
        ax.plot([0, 1], [1, 0])
        path = atomic_save_figure(tmp_path / "sub" / f"{dpi}.png", fig, dpi=dpi)
        assert path == tmp_path / "sub" / f"{dpi}.png"
        assert fig.number not in plt.get_fignums()
        sizes[dpi] = _png_size(path)
    assert sizes[None] == (160, 80)  # the figure's own dpi
    assert sizes[50] == (100, 50) and sizes[120] == (240, 120)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["120.png", "50.png", "None.png"]
