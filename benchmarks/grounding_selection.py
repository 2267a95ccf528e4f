"""Choose the grounding model's learning rates and epochs on held-out pairs (seed-0 world only).

25 % of the pairs (seeded) are held out; every configuration trains on the rest and logs the
held-out top-1 voxel accuracy and the share predicted within 2 voxel edges after each epoch;
the best epoch is chosen by the latter. Usage::

    python benchmarks/grounding_selection.py WORLD OUT [NAME ...]   # WORLD from `synth grounding`

NAMEs pick configurations (default all); each appends its curve to OUT/selection.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from instructvid.runtime import limit_torch_threads
from instructvid.scene.ground_model import TrainConf
from instructvid.scene.ground_run import ground

CONFIGS = {
    "tfidf lr_head=1e-2": dict(text="tfidf", lr_head=1e-2),
    "tfidf lr_head=3e-2": dict(text="tfidf", lr_head=3e-2),
    "minilm frozen lr_head=1e-2": dict(freeze_encoder=True, lr_head=1e-2),
    "minilm frozen lr_head=3e-2": dict(freeze_encoder=True, lr_head=3e-2),
    "minilm tuned lr_enc=2e-5": dict(lr_encoder=2e-5, epochs=8),
    "minilm tuned lr_enc=5e-5": dict(lr_encoder=5e-5, epochs=8),
    "minilm tuned lr_enc=1e-4": dict(lr_encoder=1e-4, epochs=8),
}


def main(world: str, out: str, names: list[str], epochs: int = 16) -> None:
    scenes = sorted(str(p) for p in Path(world).glob("car_*/recon"))
    results = {}
    with limit_torch_threads(1):
        for name, kw in CONFIGS.items():
            if names and name not in names:
                continue
            conf = TrainConf(**{"epochs": epochs, **kw})
            path = ground(
                scenes,
                world,
                Path(out) / name.replace(" ", "_"),
                train=conf,
                validation_fraction=0.25,
            )
            log = json.loads(path.read_text())["log"]
            results[name] = {
                "val_accuracy": [round(e["val_accuracy"], 3) for e in log],
                "val_within_2": [round(e["val_within_2"], 3) for e in log],
            }
            best = max(range(len(log)), key=lambda i: log[i]["val_within_2"])
            print(
                f"{name:30s} best epoch {best + 1:2d} within 2 voxels "
                f"{log[best]['val_within_2']:.3f}  curve {results[name]['val_within_2']}",
                flush=True,
            )
    path = Path(out) / "selection.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **results}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
