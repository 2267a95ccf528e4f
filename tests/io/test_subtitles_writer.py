"""WebVTT writing and plain-cue reading (instructvid.io.subtitles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructvid.io.subtitles import (
    Cue,
    SubtitleFormatError,
    format_timestamp,
    read_webvtt,
    write_webvtt,
)


def test_round_trip_with_hh_mm_ss_mmm_times(tmp_path: Path) -> None:
    cues = [
        Cue(0.0, 1.5, "hi guys welcome back"),
        Cue(1.5, 3.25, "now we are going to add flour"),
        Cue(59.999, 61.001, "two\nlines"),
        Cue(3725.042, 3730.5, "after an hour"),
    ]
    path = write_webvtt(tmp_path / "v.vtt", cues)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n\n")
    assert "00:00:01.500 --> 00:00:03.250\nnow we are going to add flour\n" in text
    assert "00:00:59.999 --> 00:01:01.001\ntwo\nlines\n" in text
    assert "01:02:05.042 --> 01:02:10.500\n" in text
    assert read_webvtt(path) == cues


def test_times_are_rounded_to_milliseconds(tmp_path: Path) -> None:
    path = write_webvtt(tmp_path / "v.vtt", [Cue(1.23456, 2.0004, "a")])
    assert read_webvtt(path) == [Cue(1.235, 2.0, "a")]
    assert format_timestamp(0.0006) == "00:00:00.001"
    assert format_timestamp(86399.9994) == "23:59:59.999"


def test_empty_cue_list(tmp_path: Path) -> None:
    path = write_webvtt(tmp_path / "v.vtt", [])
    assert read_webvtt(path) == []


@pytest.mark.parametrize(
    "cue",
    [
        Cue(-1.0, 1.0, "negative"),
        Cue(2.0, 1.0, "reversed"),
        Cue(0.0, float("nan"), "nan"),
        Cue(0.0, 1.0, ""),
        Cue(0.0, 1.0, "blank\n\nline"),
        Cue(0.0, 1.0, "a --> b"),
    ],
)
def test_writer_rejects_bad_cues(tmp_path: Path, cue: Cue) -> None:
    with pytest.raises(ValueError):
        write_webvtt(tmp_path / "v.vtt", [cue])
    assert not (tmp_path / "v.vtt").exists()


def test_reader_accepts_identifiers_notes_settings_and_short_times(tmp_path: Path) -> None:
    path = tmp_path / "v.vtt"
    path.write_text(
        "\ufeffWEBVTT - a title\r\nKind: captions\r\n\r\n"
        "NOTE a comment\r\nspanning lines\r\n\r\n"
        "cue-1\r\n00:01.000 --> 00:02.500 align:start position:0%\r\nfirst\r\n\r\n"
        "00:00:03.000 --> 00:00:04.000\r\nsecond\r\n",
        encoding="utf-8",
    )
    assert read_webvtt(path) == [Cue(1.0, 2.5, "first"), Cue(3.0, 4.0, "second")]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("1\n00:00:01.000 --> 00:00:02.000\nx\n", 1),
        ("WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nx\n", 3),
        ("WEBVTT\n\n00:00:01.00 --> 00:00:02.000\nx\n", 3),
        ("WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nx\n", 3),
    ],
)
def test_reader_names_the_bad_line(tmp_path: Path, content: str, line: int) -> None:
    path = tmp_path / "bad.vtt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SubtitleFormatError) as info:
        read_webvtt(path)
    assert info.value.line == line
    assert str(path) in str(info.value)


def test_reader_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SubtitleFormatError, match="not found"):
        read_webvtt(tmp_path / "nope.vtt")
