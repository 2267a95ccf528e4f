"""The demo's settings: the synthetic world, the protocol, actionness training, the 3D scene and
the grounding world.

Chosen so that the whole demo takes a few minutes of CPU on a 2-core machine (about 1.5 min
measured on an idle machine, 2.5 min under load; the grounding stage adds ~9 s, the report pages
~2 s); the full-size experiments are in ``docs/steps.md``, ``docs/actionness.md`` and
``docs/scene.md``.
"""

from __future__ import annotations

from typing import Any

#: Bump when a stage's computation changes: every cached stage result (``OUT/stages``) is redone.
DEMO_VERSION = 2

# ---- capability 1: step localization (CrossTask protocol) ----------------------------------
#: Size of the synthetic CrossTask world (its tasks and videos) and the feature dimension
#: (64 instead of the size's 256 keeps the demo fast; the video structure does not depend on it).
DEMO_SIZE = "medium"
DEMO_DIM = 64
#: Splits of the protocol, training videos per primary task (as in the thesis) and the methods.
DEMO_SPLITS = 3
DEMO_N_TRAIN = 30
DEMO_METHODS = ("uniform", "random", "task", "component", "supervised")

# ---- capability 2: actionness (order verification) -----------------------------------------
#: ``TrainConfig`` fields (besides the seed) of the order-verification model, trained on the
#: related-task videos only. A small world needs more updates than the thesis's lr 1e-4 on 1.2 M
#: videos: 200 sequences per video per epoch and lr 1e-3 (docs/actionness.md, "Measured").
DEMO_ACTIONNESS_TRAIN: dict[str, Any] = {
    "range_s": 120,
    "n_clips": 5,
    "trim": 0.3,
    "epochs": 15,
    "lr": 1e-3,
    "sequences_per_video": 200,
}
#: Baselines beside the learned model (``instructvid actionness evaluate --baselines``).
DEMO_ACTIONNESS_BASELINES = ("chance", "trim0.3")
#: Thesis Table 4.1, CrossTask column (frame AP %), as quoted by ``actionness evaluate``.
THESIS_FRAME_AP_CROSSTASK = {"chance": 27.5, "trim0.3": 32.6, "learned": 47.6}

# ---- capability 3: 3D (synthetic scene → SfM → alignment graph → keypoint transfer) -----------
#: ``render_scene`` settings (the scene's seed is the demo's seed + 1: seed 1 is the setting
#: ``tests/scene/test_end_to_end.py`` checks). 3 videos x 10 frames of 320 x 240 take ~20 s.
DEMO_SCENE: dict[str, Any] = {
    "n_videos": 3,
    "n_frames": 10,
    "width": 320,
    "height": 240,
    "arc_degrees": 50.0,
    "annotated_frames": 5,
}
#: ``ReconstructConf`` fields: one camera per video, at most 1,500 SIFT features per image.
DEMO_RECONSTRUCT: dict[str, Any] = {"camera_mode": "single", "max_features": 1500}
#: ``AlignConf.method``: mutual-NN matches kept where the dense flow agrees (the thesis's best).
DEMO_ALIGN_METHOD = "local+flow"
#: PCK tolerances (cm) of the keypoint transfer.
DEMO_PCK_TOLERANCES_CM = (1.0, 2.0, 5.0, 10.0)

# ---- capability 3b: grounding narration into voxels (thesis §5.4) -------------------------------
#: ``synth grounding`` settings of the demo's world (its seed is the demo's seed + 1): 2 "car"
#: scenes x 3 narrated videos of 64 x 48 at 2 fps, with the oracle reconstructions (no SfM).
DEMO_GROUNDING: dict[str, Any] = {
    "scenes": 2,
    "videos": 3,
    "fps": 2.0,
    "width": 64,
    "height": 48,
    "surface_points": 6000,
}
#: ``TrainConf`` fields of the grounding model: TF-IDF text features + linear heads (seconds of
#: CPU; ``scene ground``'s default MiniLM fine-tuning is in docs/scene.md), and the voxels kept.
DEMO_GROUNDING_TRAIN: dict[str, Any] = {"text": "tfidf", "epochs": 40, "batch_size": 16}
DEMO_GROUNDING_VOXELS = 200
#: Held-out query wordings grounded one by one in the report (top voxel per query).
DEMO_GROUNDING_QUERIES = 3
#: PCK thresholds (cm) shown in the tables (the full 1…100 cm curve is in the plot).
DEMO_GROUNDING_SHOWN_CM = (10, 30, 50, 100)
