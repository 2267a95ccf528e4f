"""The demo: every implemented pipeline on embedded synthetic data, ending in a report.

``instructvid demo --out OUT`` (``make demo``) calls :func:`run_demo`, which runs

1. **step localization** (capability 1): a ``medium`` synthetic CrossTask world with 64-d
   features → its check → Table 3.2 statistics → the split protocol (30 training videos per
   primary task, 3 splits) for uniform, random, the task-specific and component models and the
   supervised topline;
2. **actionness** (capability 2): order verification trained on the related-task videos only →
   per-second actionness of every primary-task video → frame AP / AR@AN against the ``chance``
   and ``trim0.3`` baselines → the step models plus actionness (eq. 4.4, ``<method>+actionness``,
   α chosen on the validation videos);
3. **3D** (capability 3): a tiny rendered scene (3 videos x 10 frames) → per-video SfM →
   alignment graph → keypoint transfer and PCK (left out, with the reason in the report, when
   the optional ``scene`` packages or headless OpenGL are missing); and grounding narration
   into voxels: a small narrated ``synth grounding`` world → the grounding model (TF-IDF) →
   PCK against chance (Table 5.1, Fig. 5.7) → a few held-out queries grounded;

then the ``instructvid report`` page of each output folder (``report.html`` in it), and
``OUT/report.html`` and ``OUT/report.md`` with every table, the time of every stage and links
to those pages.
Resumable: stages finished by an earlier run into the same ``OUT`` are reused. About 1.5
minutes of CPU on a 2-core machine (per stage in the report's timings).

Modules: :mod:`~instructvid.demo.config` (the ``DEMO_*`` settings),
:mod:`~instructvid.demo.run` (:func:`run_demo`: sequences the stages),
:mod:`~instructvid.demo.stages` (cached, timed stages), one module per capability's stages
(:mod:`~instructvid.demo.world`, :mod:`~instructvid.demo.actionness`,
:mod:`~instructvid.demo.steps`, :mod:`~instructvid.demo.scene`,
:mod:`~instructvid.demo.grounding`, :mod:`~instructvid.demo.video`,
:mod:`~instructvid.demo.pages`) and :mod:`~instructvid.demo.report` (the report and the
console tables).
"""

from __future__ import annotations

from instructvid.demo.config import (
    DEMO_ACTIONNESS_BASELINES,
    DEMO_ACTIONNESS_TRAIN,
    DEMO_ALIGN_METHOD,
    DEMO_DIM,
    DEMO_METHODS,
    DEMO_N_TRAIN,
    DEMO_PCK_TOLERANCES_CM,
    DEMO_RECONSTRUCT,
    DEMO_SCENE,
    DEMO_SIZE,
    DEMO_SPLITS,
    DEMO_VERSION,
)
from instructvid.demo.run import DemoResult, DemoTable, run_demo
from instructvid.demo.stages import StageTiming

__all__ = [
    "DEMO_ACTIONNESS_BASELINES",
    "DEMO_ACTIONNESS_TRAIN",
    "DEMO_ALIGN_METHOD",
    "DEMO_DIM",
    "DEMO_METHODS",
    "DEMO_N_TRAIN",
    "DEMO_PCK_TOLERANCES_CM",
    "DEMO_RECONSTRUCT",
    "DEMO_SCENE",
    "DEMO_SIZE",
    "DEMO_SPLITS",
    "DEMO_VERSION",
    "DemoResult",
    "DemoTable",
    "StageTiming",
    "run_demo",
]
