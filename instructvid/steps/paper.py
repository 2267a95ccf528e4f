"""Reference numbers from the thesis (D. Zhukov, ch. 3) and the CVPR 2019 CrossTask paper.

Kept in one place so that every report prints our figures beside the paper's. Percentages are
stored as fractions in [0, 1]; durations in seconds.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

#: The 18 primary tasks in the order of Tables 3.2 and 3.3.
PRIMARY_TASK_TITLES: tuple[str, ...] = (
    "Make Kimchi Rice",
    "Pickle Cucumber",
    "Make Banana Ice Cream",
    "Grill Steak",
    "Jack Up Car",
    "Make Jello Shots",
    "Change Tire",
    "Make Lemonade",
    "Add Oil to Car",
    "Make Latte",
    "Build Floating Shelves",
    "Make Taco Salad",
    "Make French Toast",
    "Make Irish Coffee",
    "Make Strawberry Cake",
    "Make Pancakes",
    "Make Meringue",
    "Make Fish Curry",
)


@dataclass(frozen=True)
class TaskStatistics:
    """One row of Table 3.2 (statistics of a primary task)."""

    n_videos: int
    n_steps: float
    mean_duration_s: float
    missing_steps: float
    background: float
    order_consistency: float


def _mmss(text: str) -> float:
    minutes, seconds = text.split(":")
    return 60.0 * int(minutes) + int(seconds)


_TABLE_3_2_ROWS = """
Make Kimchi Rice|120|6|4:47|21|70|0.69
Pickle Cucumber|106|11|5:35|48|75|0.85
Make Banana Ice Cream|170|5|4:04|38|80|0.98
Grill Steak|228|11|5:26|46|75|0.95
Jack Up Car|89|3|4:13|39|81|1.00
Make Jello Shots|182|6|4:15|21|72|0.87
Change Tire|99|11|4:52|27|62|0.97
Make Lemonade|131|8|3:44|28|69|0.80
Add Oil to Car|137|8|5:39|33|85|0.92
Make Latte|157|6|3:52|43|71|0.89
Build Floating Shelves|153|5|5:23|34|58|0.96
Make Taco Salad|170|8|4:44|41|79|0.66
Make French Toast|252|10|4:10|23|68|0.80
Make Irish Coffee|185|5|3:13|13|74|0.77
Make Strawberry Cake|86|9|5:36|25|63|0.82
Make Pancakes|182|8|4:34|19|70|0.89
Make Meringue|154|6|4:42|23|67|0.98
Make Fish Curry|149|7|5:31|25|69|0.74
"""

#: Table 3.2, per primary task (title → statistics).
TABLE_3_2: dict[str, TaskStatistics] = {
    row.split("|")[0]: TaskStatistics(
        n_videos=int(row.split("|")[1]),
        n_steps=float(row.split("|")[2]),
        mean_duration_s=_mmss(row.split("|")[3]),
        missing_steps=int(row.split("|")[4]) / 100,
        background=int(row.split("|")[5]) / 100,
        order_consistency=float(row.split("|")[6]),
    )
    for row in _TABLE_3_2_ROWS.strip().splitlines()
}

#: Table 3.2 "Average" row and the text of §3.5.2 (7.4 steps; best parse misses 14 %), plus the
#: constraint quality of appendix A.1.1 (IoU 7.9 %; 61 % of steps entirely outside).
TABLE_3_2_TOTAL: dict[str, float] = {
    "n_videos": 2763,
    "hours": 213.0,
    "n_steps": 7.4,
    "mean_duration_s": _mmss("4:57"),
    "missing_steps": 0.31,
    "background": 0.72,
    "order_consistency": 0.86,
    "best_parse_recall": 0.86,
    "constraint_iou": 0.079,
    "outside_constraints": 0.61,
}

#: §3.5.1–3.5.2: "2763 videos of 18 primary tasks comprising 213 hours of video; and 1950 videos
#: of 65 related tasks comprising 161 hours"; 2750 of the primary videos annotated (§2, §3.5);
#: "the primary and related tasks share about 2.6 % of videos".
DATASET_TOTALS: dict[str, float] = {
    "primary_videos": 2763,
    "primary_hours": 213.0,
    "related_videos": 1950,
    "related_hours": 161.0,
    "annotated_videos": 2750,
    "shared_fraction": 0.026,
}

#: Table 3.3: recall per primary task (order of PRIMARY_TASK_TITLES) and the average, fractions.
TABLE_3_3: dict[str, tuple[list[float], float]] = {
    name: ([float(v) / 100 for v in values.split()[:18]], float(values.split()[18]) / 100)
    for name, values in {
        "supervised": "19.1 25.3 38.0 37.5 25.7 28.2 54.3 25.8 18.3 31.2 47.7 12.0 39.5 23.4 30.9 41.1 53.4 17.3 31.6",
        "uniform": "4.2 7.1 6.4 7.3 17.4 7.1 14.2 9.8 3.1 10.7 22.1 5.5 9.5 7.5 9.2 9.2 19.5 5.1 9.7",
        "alayrac": "15.6 10.6 7.5 14.2 9.3 11.8 17.3 13.1 6.4 12.9 27.2 9.2 15.7 8.6 16.3 13.0 23.2 7.4 13.3",
        "richard18": "7.6 4.3 3.6 4.6 8.9 5.4 7.5 7.3 3.6 6.2 12.3 3.8 7.4 7.2 6.7 9.6 12.3 3.1 6.7",
        "task": "13.2 17.6 19.3 19.3 9.7 12.6 30.4 16.0 4.5 19.0 29.0 9.1 29.1 14.5 22.9 29.0 32.9 7.3 18.6",
        "component": "13.3 18.0 23.4 23.1 16.9 16.5 30.7 21.6 4.6 19.5 35.3 10.0 32.3 13.8 29.5 37.6 43.0 13.3 22.4",
    }.items()
}


#: Table 3.3's "Gain from Sharing" row as printed (proposed − task-specific before rounding, so
#: it can differ by 0.1 from the difference of the printed rows): per task and the average.
TABLE_3_3_GAIN: tuple[list[float], float] = (
    [
        float(v) / 100
        for v in "0.2 0.4 4.1 3.8 7.2 3.9 0.3 5.6 0.1 0.6 6.3 0.9 3.2 -0.7 6.6 8.7 10.1 6.0".split()
    ],
    0.037,
)

#: §3.6.1: the proposed method improves on task-specific steps in 17 tasks out of 18.
PAPER_SHARING_HELPED: tuple[int, int] = (17, 18)


def _normalise(title: str) -> str:
    words = re.sub(r"[^a-z ]", " ", title.lower()).split()
    words = [w for w in words if w not in {"make", "a", "an", "the", "to", "how", "your"}]
    return " ".join(w.rstrip("s") for w in words)


#: Release card titles that differ from the tables' wording by more than plurals and fillers.
_TITLE_ALIASES: dict[str, str] = {"make kimchi fried rice": "Make Kimchi Rice"}


def match_paper_title(title: str) -> str | None:
    """The Table 3.2/3.3 title that a task-card title refers to, or ``None``.

    Real task cards say e.g. ``"Pickle Cucumbers"`` where the tables say ``"Pickle Cucumber"``;
    matching ignores case, plurals and filler words, then accepts a close match (ratio >= 0.85).
    """
    if title.strip().lower() in _TITLE_ALIASES:
        return _TITLE_ALIASES[title.strip().lower()]
    target = _normalise(title)
    normalised = {_normalise(t): t for t in PRIMARY_TASK_TITLES}
    if target in normalised:
        return normalised[target]
    close = difflib.get_close_matches(target, list(normalised), n=1, cutoff=0.85)
    return normalised[close[0]] if close else None


#: Table A.2: (recall, mAP) of step localization, fractions. "task" = unshared (task-specific
#: steps), "component" = shared components with related tasks. The mAP is not defined in the
#: thesis; see :mod:`instructvid.metrics.step_map` for our reading.
TABLE_A_2: dict[str, tuple[float, float]] = {
    "random": (0.0827, 0.043),
    "richard18": (0.067, 0.055),
    "alayrac": (0.133, 0.069),
    "task": (0.186, 0.089),
    "component": (0.224, 0.110),
}


def paper_recall(method: str) -> float | None:
    """The paper's average recall of a method (Table 3.3, else Table A.2), or ``None``."""
    if method in TABLE_3_3:
        return TABLE_3_3[method][1]
    if method in TABLE_A_2:
        return TABLE_A_2[method][0]
    return None
