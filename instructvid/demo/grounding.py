"""The demo's grounding stage (thesis §5.4): narration → voxels of the common 3D model → PCK.

A small ``synth grounding`` world (``DEMO_GROUNDING``, oracle reconstructions, so no SfM) →
``scene ground`` with TF-IDF text features (``DEMO_GROUNDING_TRAIN``) → ``scene evaluate`` on the
world's held-out query wordings (PCK curve 1…100 cm, mean at 30 cm, exact chance) → a few
queries grounded one by one (top voxel centre in the scene's reference frame, its score, and its
distance to the named object in cm). :func:`grounding_stage` runs it all as one cached, timed
stage (stage 12).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructvid.demo.config import (
    DEMO_GROUNDING,
    DEMO_GROUNDING_QUERIES,
    DEMO_GROUNDING_SHOWN_CM,
    DEMO_GROUNDING_TRAIN,
    DEMO_GROUNDING_VOXELS,
    DEMO_VERSION,
)
from instructvid.demo.stages import Stages
from instructvid.types import ProgressCallback

__all__ = ["EVAL", "RUN", "WORLD", "ground_demo", "grounding_stage"]

#: Sub-folders of the stage's root: the synthetic world, the trained run and its evaluation.
WORLD, RUN, EVAL = "world", "run", "eval"


def _phases(progress: ProgressCallback | None, n: int):
    """``phase(k)`` → a callback mapping phase ``k``'s (done, total) onto ``n`` equal parts."""

    def phase(k: int) -> ProgressCallback:
        def update(done: int, total: int) -> None:
            if progress is not None:
                frac = done / total if total else 1.0
                progress(int(1000 * (k + frac)), 1000 * n)

        return update

    return phase


def _pick_queries(
    rows: list[tuple[str, str, str]], scenes: list[str], n: int
) -> list[tuple[str, str, str]]:
    """``n`` (scene, object, query) rows: distinct objects, scenes taken in turn, first wording."""
    picked: list[tuple[str, str, str]] = []
    objects: set[str] = set()
    while len(picked) < n:
        scene = scenes[len(picked) % len(scenes)]
        row = next((r for r in rows if r[0] == scene and r[1] not in objects), None)
        if row is None:
            break
        picked.append(row)
        objects.add(row[1])
    return picked


def ground_demo(root: Path, *, seed: int, progress: ProgressCallback | None = None) -> dict:
    """Write the world, train, evaluate and ground a few queries under ``root``.

    Each step resumes on its own (the world is skipped when written with the same settings;
    training restarts from its last epoch's checkpoint).

    Returns:
        JSON-able: ``method``; ``pairs`` (training pairs) and ``n_voxels`` per scene; ``pck``
        (fraction of queries within 30 cm), ``chance`` (its exact expectation), ``class_average``
        (mean over object classes, as Table 5.1; ``chance_class_average`` alike), ``at`` (``{cm: [pck, chance]}`` at
        ``DEMO_GROUNDING_SHOWN_CM``), ``queries`` (how many were evaluated), ``table_md`` (the
        per-object table beside Table 5.1) and ``grounded``: per picked query its scene, object,
        wording, top voxel ``centre`` (reference frame, model units), ``score`` (softmax
        probability) and ``error_cm`` (distance to the object, cm).
    """
    import json

    from instructvid.scene.ground_eval import (
        evaluate,
        read_objects,
        read_queries,
        world_to_reference,
    )
    from instructvid.scene.ground_model import TrainConf
    from instructvid.scene.ground_run import ground, query
    from instructvid.synth.grounding import generate_grounding

    root = Path(root)
    world, run, eval_dir = root / WORLD, root / RUN, root / EVAL
    phase = _phases(progress, 3)
    generate_grounding(world, seed=seed, progress=phase(0), **DEMO_GROUNDING)
    scenes = sorted(json.loads((world / "world.json").read_text(encoding="utf-8"))["scenes"])
    summary_path = ground(
        [world / s / "recon" for s in scenes],
        world,
        run,
        train=TrainConf(seed=seed, **DEMO_GROUNDING_TRAIN),
        n_voxels=DEMO_GROUNDING_VOXELS,
        progress=phase(1),
    )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    pck = json.loads(
        evaluate(
            run, world / "objects.json", world / "queries.csv", eval_dir, gt_cameras=world
        ).read_text(encoding="utf-8")
    )
    objects = read_objects(world / "objects.json")
    grounded = []
    for scene, obj, text in _pick_queries(
        read_queries(world / "queries.csv"), scenes, DEMO_GROUNDING_QUERIES
    ):
        (top,) = query(run, text, scene=scene, top=1)
        sim = world_to_reference(run, scene, world)
        error_cm = float(np.linalg.norm(np.asarray(top["centre"]) - sim(objects[scene][obj])))
        grounded.append(
            {
                "scene": scene,
                "object": obj,
                "query": text,
                "centre": top["centre"],
                "score": top["score"],
                "error_cm": round(100.0 * error_cm / sim.scale, 2),
            }
        )
    phase(2)(1, 1)
    thresholds = pck["thresholds_cm"]
    return {
        "method": pck["method"],
        "pairs": summary["total"]["training_pairs"],
        "n_voxels": summary["n_voxels"],
        "pck": pck["mean"],
        "chance": pck["chance"]["mean"],
        "class_average": pck["class_average"],
        "chance_class_average": float(np.mean(list(pck["chance"]["per_class"].values()))),
        "at_cm": pck["at_cm"],
        "at": {
            str(t): [pck["curve"][thresholds.index(t)], pck["chance"]["curve"][thresholds.index(t)]]
            for t in DEMO_GROUNDING_SHOWN_CM
        },
        "queries": pck["queries"],
        "table_md": (eval_dir / "table.md").read_text(encoding="utf-8"),
        "grounded": grounded,
    }


def grounding_stage(stages: Stages, out: Path, seed: int) -> dict:
    """Stage ``grounding`` into ``out/grounding`` (world seed ``seed + 1``); returns what
    :func:`ground_demo` returns."""
    root = out / "grounding"
    settings = {
        "version": DEMO_VERSION,
        "seed": seed + 1,
        "world": DEMO_GROUNDING,
        "train": DEMO_GROUNDING_TRAIN,
        "n_voxels": DEMO_GROUNDING_VOXELS,
        "queries": DEMO_GROUNDING_QUERIES,
    }
    return stages.run(
        "grounding",
        "3D grounding: narration → voxels, PCK and queries",
        settings,
        lambda update: ground_demo(root, seed=seed + 1, progress=update),
        outputs=[root / EVAL / "pck.json", root / EVAL / "pck.png"],
    )
