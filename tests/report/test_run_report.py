"""``instructvid report RUN``: every run kind gets a self-contained page whose images all decode
(and render in a real browser when Chromium is installed)."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from instructvid.cli.main import app
from instructvid.io.atomic import atomic_write_json
from instructvid.io.crosstask import (
    Segment,
    Task,
    VideoEntry,
    write_segments,
    write_task_cards,
    write_video_list,
)
from instructvid.io.scores import StepScoresDir
from instructvid.report.runs import run_kind, write_run_report
from instructvid.video.decode import write_video

TASK = Task("101", "Make Pancakes", "http://x", ("add flour", "add egg", "flip pancake"))


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs.get("src", ""))
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value.startswith(("http:", "https:", "//")):
                self.external.append(value)


def _decoded_images(page: Path) -> list[Image.Image]:
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    assert not parser.external, "the page must not fetch anything"
    images = []
    for src in parser.sources:
        assert src.startswith("data:image/png;base64,"), src[:40]
        image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        image.load()
        assert image.width > 50 and image.height > 50
        images.append(image)
    return images


def _steps_run(root: Path, n_videos: int = 2) -> tuple[Path, Path]:
    """A RUN folder laid out as `steps run` writes it, with real videos to take frames from."""
    run, annotations, videos = root / "RUN", root / "annotations", root / "videos"
    atomic_write_json(
        run / "config.json", {"kind": "instructvid steps run", "settings": {"seed": 0}}
    )
    write_task_cards(run / "dataset" / "tasks_primary.txt", [TASK])
    ids = [f"vid{i}" for i in range(n_videos)]
    write_video_list(run / "dataset" / "videos.csv", [VideoEntry("101", v) for v in ids])
    steps, manifest = {}, {}
    scores = StepScoresDir(run / "scores", create=True)
    rng = np.random.default_rng(0)
    for vid in ids:
        frames = [np.full((32, 32, 3), 20 * t, np.uint8) for t in range(12)]
        write_video(videos / f"{vid}.mp4", frames, fps=1)
        manifest[vid] = {"rows": 12, "duration": 12.0, "source": str(videos / f"{vid}.mp4")}
        logits = rng.normal(size=(12, 3))
        scores.write("101", vid, logits - np.log(np.exp(logits).sum(1, keepdims=True)))
        predicted = [2, 5, 9]
        write_segments(
            run / "steps" / f"101_{vid}.csv",
            [Segment(k + 1, t, t + 1) for k, t in enumerate(predicted)],
        )
        steps[vid] = {
            "task": "101",
            "steps": [
                {"step": k + 1, "name": TASK.steps[k], "start": t, "end": t + 1, "score": 0.5}
                for k, t in enumerate(predicted)
            ],
        }
        # Truth: steps 1 and 2 where predicted (hits), step 3 elsewhere (a miss).
        write_segments(
            annotations / f"101_{vid}.csv",
            [Segment(1, 1.0, 4.0), Segment(2, 5.0, 7.0), Segment(3, 0.0, 1.0)],
        )
    atomic_write_json(run / "features" / "manifest.json", {"videos": manifest})
    atomic_write_json(run / "steps.json", steps)
    atomic_write_json(run / "stages.json", {"features": {"seconds": 1.5, "problems": []}})
    atomic_write_json(
        run / "problems.json",
        [{"video": "bad", "stage": "features", "reason": "cannot open video", "skipped": True}],
    )
    return run, annotations


def test_steps_run_report_embeds_every_figure_and_the_recall(tmp_path):
    run, annotations = _steps_run(tmp_path)
    assert run_kind(run) == "steps run"
    page = write_run_report(run, annotations=annotations)
    assert page == run / "report.html"
    images = _decoded_images(page)
    assert len(images) == 3  # two timelines and the normalised-time curve
    text = page.read_text(encoding="utf-8")
    # 2 of 3 steps hit in each video: 66.7 % recall beside Table 3.3's pancakes row (37.6).
    assert "66.7" in text and "37.6" in text
    assert "cannot open video" in text and "Package versions" in text
    assert "Timings" in text


def test_other_run_kinds(tmp_path):
    from instructvid.scene.graph import write_ply

    bench = tmp_path / "bench"
    atomic_write_json(
        bench / "component.json",
        {"method": "component", "per_task": {"101": 0.3, "102": 0.2}, "mean": 0.25, "std": 0.01},
    )
    actionness = tmp_path / "axn"
    atomic_write_json(
        actionness / "trim.json", {"metric": "frame_ap", "method": "trim", "mean": 0.27}
    )
    atomic_write_json(
        actionness / "trim.proposals.json",
        {"metric": "ar_an_auc", "method": "trim", "mean": 0.4, "ar_at": {"10": 0.3},
         "an": [1, 10, 100], "ar": [0.1, 0.3, 0.5]},
    )  # fmt: skip
    scene = tmp_path / "scene"
    points = np.random.default_rng(0).normal(size=(500, 3))
    write_ply(scene / "GRAPH.ply", points, np.full((500, 3), 200, np.uint8))
    train = tmp_path / "train"
    atomic_write_json(train / "config.json", {"kind": "instructvid steps train"})
    atomic_write_json(train / "history.json", [{"loss": 3.0 - i, "seconds": 1.0} for i in range(3)])
    atomic_write_json(
        train / "evaluation.json", {"per_task": {"101": 0.2}, "mean": 0.2, "method": "component"}
    )
    expected = {bench: ("steps benchmark", 1), actionness: ("actionness evaluate", 1),
                scene: ("scene", 1), train: ("steps train", 1)}  # fmt: skip
    for folder, (kind, n_images) in expected.items():
        assert run_kind(folder) == kind
        page = write_run_report(folder)
        assert len(_decoded_images(page)) >= n_images, kind
    assert "27.0" in (actionness / "report.html").read_text(encoding="utf-8")


def test_cli_report_and_unknown_folder(tmp_path):
    run, annotations = _steps_run(tmp_path, n_videos=1)
    result = CliRunner().invoke(app, ["report", str(run), "--annotations", str(annotations)])
    assert result.exit_code == 0, result.output
    assert "steps run report" in result.output
    result = CliRunner().invoke(app, ["report", str(tmp_path / "annotations")])
    assert result.exit_code == 2
    assert "not an output folder" in result.output and "Traceback" not in result.output


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_every_image_renders_in_headless_chromium(tmp_path):
    run, annotations = _steps_run(tmp_path)
    page = write_run_report(run, annotations=annotations)
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8")
        + "<script>addEventListener('load',()=>{const i=[...document.images];"
        "const d=document.createElement('pre');d.id='imgcheck';d.textContent=JSON.stringify("
        "{n:i.length,ok:i.filter(x=>x.complete&&x.naturalWidth>0).length});"
        "document.body.appendChild(d);});</script>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    ).stdout  # fmt: skip
    marker = '<pre id="imgcheck">'
    assert marker in dom, dom[-500:]
    counts = json.loads(dom.split(marker, 1)[1].split("<", 1)[0])
    assert counts["n"] == 3 and counts["ok"] == counts["n"]
