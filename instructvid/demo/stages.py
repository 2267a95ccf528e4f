"""Resumable, timed stages of the demo.

A stage computes a JSON-able result under a progress bar. The result is stored in
``OUT/stages/<key>.json`` with the settings that produced it and the wall-clock and CPU seconds
it took; a later run with the same settings (and its output files still present) reuses it
without computing anything. An interrupted stage has no file, so it is computed again — the
library functions it calls resume on their own (finished videos, epochs, splits, models).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructvid.io.atomic import atomic_write_json
from instructvid.types import ProgressCallback

try:  # CPU seconds of this process and of its finished child processes (Unix)
    import resource

    def cpu_seconds() -> float:
        """User + system CPU seconds of this process, its threads and its reaped children."""
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

except ImportError:  # pragma: no cover - Windows

    def cpu_seconds() -> float:
        """CPU seconds of this process (children not counted on this platform)."""
        return time.process_time()


@dataclass(frozen=True)
class StageTiming:
    """Wall-clock and CPU seconds of one stage; ``reused``: taken from an earlier run's cache
    (the seconds are then those of the run that computed it)."""

    key: str
    label: str
    wall_s: float
    cpu_s: float
    reused: bool


class Stages:
    """Runs the numbered stages of one demo run and collects their timings.

    Args:
        root: ``OUT``; stage results go to ``OUT/stages/<key>.json``.
        total: number of stages announced in the progress bars (``k/total``).
        notify: prints one line (used for reused and skipped stages).
    """

    def __init__(self, root: Path, total: int, notify: Callable[[str], None]) -> None:
        self.dir = Path(root) / "stages"
        self.total = total
        self.notify = notify
        self.count = 0
        self.timings: list[StageTiming] = []

    def _cached(
        self, path: Path, settings: Mapping[str, Any], outputs: Sequence[Path]
    ) -> dict[str, Any] | None:
        if not path.is_file() or not all(Path(p).exists() for p in outputs):
            return None
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(payload, dict) or payload.get("settings") != json.loads(
            json.dumps(settings)
        ):
            return None
        return payload

    def run(
        self,
        key: str,
        label: str,
        settings: Mapping[str, Any],
        compute: Callable[[ProgressCallback], Any],
        *,
        outputs: Sequence[Path] = (),
    ) -> Any:
        """The stage's result: reused from ``OUT/stages/<key>.json`` or computed now.

        Args:
            key: file name of the cached result.
            label: shown in the progress bar and the timings table.
            settings: JSON-able; the cache is reused only if they are equal.
            compute: ``compute(progress) -> result`` (JSON-able; returned after a JSON round
                trip, so a fresh and a reused result look the same).
            outputs: files the result refers to; the cache is ignored if one is missing.
        """
        from instructvid.progress import progress_bar

        self.count += 1
        title = f"{self.count}/{self.total} {label}"
        path = self.dir / f"{key}.json"
        cached = self._cached(path, settings, outputs)
        if cached is not None:
            self.timings.append(
                StageTiming(key, label, float(cached["wall_s"]), float(cached["cpu_s"]), True)
            )
            self.notify(f"{title}: reused ({path})")
            return cached["result"]
        wall0, cpu0 = time.perf_counter(), cpu_seconds()
        with progress_bar(title) as update:
            result = json.loads(json.dumps(compute(update)))
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
        atomic_write_json(
            path, {"settings": settings, "result": result, "wall_s": wall, "cpu_s": cpu}
        )
        self.timings.append(StageTiming(key, label, wall, cpu, False))
        return result

    def skip(self, label: str, reason: str) -> None:
        """Count a stage that does not run (announced, not timed)."""
        self.count += 1
        self.notify(f"{self.count}/{self.total} {label}: skipped ({reason})")
