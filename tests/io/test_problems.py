"""``Problems``: strict mode raises the first problem, lenient mode keeps all of them in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instructvid.io.crosstask import CrossTaskFormatError
from instructvid.io.problems import Problems

messages = st.lists(st.text(min_size=1, max_size=20), max_size=8)


@given(messages)
def test_lenient_keeps_every_problem_in_order(problems: list[str]) -> None:
    errors: list[CrossTaskFormatError] = []
    sink = Problems(errors, CrossTaskFormatError)
    for line, problem in enumerate(problems, start=1):
        sink.report("f.csv", problem, line=line)
    assert sink.lenient
    assert [(e.problem, e.line) for e in errors] == [(p, i + 1) for i, p in enumerate(problems)]
    assert all(isinstance(e, CrossTaskFormatError) and e.path == Path("f.csv") for e in errors)


@given(messages.filter(bool))
def test_strict_raises_the_first_problem(problems: list[str]) -> None:
    sink = Problems(None, CrossTaskFormatError)
    assert not sink.lenient
    with pytest.raises(CrossTaskFormatError) as info:
        for problem in problems:
            sink.report("f.csv", problem, line=3)
    assert info.value.problem == problems[0]
    assert str(info.value).startswith("f.csv, line 3: ")


def test_add_raises_or_keeps_the_same_error() -> None:
    error = CrossTaskFormatError("x.txt", "bad")
    with pytest.raises(CrossTaskFormatError) as info:
        Problems(None, CrossTaskFormatError).add(error)
    assert info.value is error
    errors: list[CrossTaskFormatError] = []
    Problems(errors, CrossTaskFormatError).add(error)
    assert errors == [error]


@pytest.mark.parametrize("value", ["../x", "a/b", "", "."])
def test_check_id_reports_an_invalid_id_as_the_readers_error(value: str) -> None:
    errors: list[CrossTaskFormatError] = []
    assert not Problems(errors, CrossTaskFormatError).check_id(
        value, path="v.csv", line=4, what="video id"
    )
    assert len(errors) == 1 and type(errors[0]) is CrossTaskFormatError
    assert errors[0].line == 4 and "video id" in errors[0].problem
    with pytest.raises(CrossTaskFormatError, match=r"v\.csv, line 4: video id"):
        Problems(None, CrossTaskFormatError).check_id(value, path="v.csv", line=4, what="video id")


def test_check_id_accepts_a_valid_id() -> None:
    errors: list[CrossTaskFormatError] = []
    assert Problems(errors, CrossTaskFormatError).check_id(
        "abc-1_2.x", path="v.csv", line=1, what="video id"
    )
    assert errors == []
