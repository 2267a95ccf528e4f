"""Task-card titles are matched to the paper's tables despite wording differences."""

from __future__ import annotations

import pytest

from instructvid.steps.paper import TABLE_3_2, TABLE_3_3, match_paper_title


@pytest.mark.parametrize(
    ("card", "paper"),
    [
        ("Add Oil to Your Car", "Add Oil to Car"),
        ("Make Kimchi Fried Rice", "Make Kimchi Rice"),
        ("Pickle Cucumbers", "Pickle Cucumber"),
        ("Make Pancakes", "Make Pancakes"),
        ("Change a Tire", "Change Tire"),
    ],
)
def test_release_titles_match(card: str, paper: str) -> None:
    assert match_paper_title(card) == paper


def test_unrelated_title_does_not_match() -> None:
    assert match_paper_title("Make Sourdough Bread") is None


def test_tables_are_consistent() -> None:
    assert len(TABLE_3_2) == 18
    # Table 3.3's printed averages equal the mean of its per-task values (to rounding).
    for method, (values, average) in TABLE_3_3.items():
        assert len(values) == 18
        assert abs(sum(values) / 18 - average) < 0.0015, method
