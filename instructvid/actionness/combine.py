"""Step localization with actionness (thesis eq. 4.4, Table 4.2) — re-exported.

The functions live in :mod:`instructvid.align.combine`: they are pure array functions around
the ordered-assignment DP, and the ``steps`` capability (``steps localize`` / ``steps benchmark
--actionness``) uses them too, which it could not do from here (capabilities do not import each
other; ``steps`` sees actionness only as plain per-second arrays). Importing them from this
module keeps working.
"""

from __future__ import annotations

from instructvid.align.combine import (
    DEFAULT_ALPHAS,
    AlphaChoice,
    choose_alpha,
    combine_scores,
    localize_with_actionness,
)

__all__ = [
    "DEFAULT_ALPHAS",
    "AlphaChoice",
    "choose_alpha",
    "combine_scores",
    "localize_with_actionness",
]
