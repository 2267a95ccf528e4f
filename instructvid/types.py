"""Type aliases shared by the whole package: one spelling of a path and of a progress callback."""

from __future__ import annotations

import os
from collections.abc import Callable

#: A filesystem path as the package's public functions accept it.
PathLike = str | os.PathLike[str]

#: ``progress(done, total)``: called as work advances; ``total`` may change while work is found.
ProgressCallback = Callable[[int, int], None]
