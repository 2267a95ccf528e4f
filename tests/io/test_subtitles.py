"""Subtitle readers → timed words (instructvid.io.subtitles): WebVTT (YouTube), SRT, HowTo100M."""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import pytest

from instructvid.io.subtitles import (
    Cue,
    EmptySubtitlesWarning,
    SubtitleFormatError,
    TimedWord,
    cues_to_words,
    find_subtitles,
    read_howto100m_json,
    read_srt,
    read_webvtt,
    read_words,
)

# A YouTube automatic-caption file as youtube-dl/yt-dlp write it: a header with metadata, cue
# settings, " " lines, word timings on the new line, the previous line repeated plain, and
# 10 ms "flash" cues that repeat the finished line.
YOUTUBE_VTT = """WEBVTT
Kind: captions
Language: en

00:00:00.030 --> 00:00:02.389 align:start position:0%
~
hi<00:00:00.539><c> guys</c><00:00:00.870><c> welcome</c><00:00:01.319><c> back</c>

00:00:02.389 --> 00:00:02.399 align:start position:0%
hi guys welcome back
~

00:00:02.399 --> 00:00:05.690 align:start position:0%
hi guys welcome back
today<00:00:02.939><c> we</c><00:00:03.270><c> add</c><00:00:03.600><c> the</c><00:00:04.100><c> flour</c>

00:00:05.690 --> 00:00:05.700 align:start position:0%
today we add the flour
~

00:00:05.700 --> 00:00:08.000 align:start position:0%
today we add the flour
[Music]

00:00:08.000 --> 00:00:10.000 align:start position:0%
[Music]
and<00:00:08.500><c> whisk</c><00:00:09.000><c> &amp;</c><00:00:09.200><c> stir</c>
""".replace("\n~\n", "\n \n")  # "~" stands for YouTube's " " lines


def _words(words: list[TimedWord]) -> list[str]:
    return [w.word for w in words]


def test_youtube_vtt_gives_each_word_once_with_its_timing(tmp_path: Path) -> None:
    path = tmp_path / "abc.en.vtt"
    path.write_text(YOUTUBE_VTT, encoding="utf-8")
    words = read_words(path)
    assert _words(words) == [
        "hi", "guys", "welcome", "back",
        "today", "we", "add", "the", "flour",
        "and", "whisk", "&", "stir",
    ]  # fmt: skip
    by_word = {w.word: w for w in words}
    assert by_word["hi"] == TimedWord("hi", 0.03, 0.539)  # first word starts with the cue
    assert by_word["guys"] == TimedWord("guys", 0.539, 0.87)
    assert by_word["back"] == TimedWord("back", 1.319, 2.389)  # last word ends with the cue
    assert by_word["flour"] == TimedWord("flour", 4.1, 5.69)
    assert by_word["stir"].start == 9.2
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    # The plain reader keeps the cues verbatim, " " lines included.
    cues = read_webvtt(path)
    assert len(cues) == 6
    assert cues[0].text.startswith(" \nhi<00:00:00.539>")


def test_plain_vtt_words_share_the_cue_time(tmp_path: Path) -> None:
    path = tmp_path / "v.vtt"
    path.write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.000\n<v Bob>add the flour</v>\n\n"
        "00:04.000 --> 00:05.000\nyes\n\n00:05.000 --> 00:06.000\nyes\n",
        encoding="utf-8",
    )
    words = read_words(path)
    assert _words(words) == ["add", "the", "flour", "yes", "yes"]  # no de-duplication
    assert words[0].start == pytest.approx(1.0) and words[0].end == pytest.approx(1.0 + 2 / 3)
    assert words[2].end == pytest.approx(3.0)


def test_srt(tmp_path: Path) -> None:
    path = tmp_path / "v.srt"
    path.write_text(
        "1\r\n00:00:01,000 --> 00:00:03,000\r\nnow we add\r\nthe flour\r\n\r\n"
        "2\r\n00:00:04,500 --> 00:00:05,500\r\n<i>whisk</i>\r\n",
        encoding="utf-8",
    )
    assert read_srt(path) == [
        Cue(1.0, 3.0, "now we add\nthe flour"),
        Cue(4.5, 5.5, "<i>whisk</i>"),
    ]
    words = read_words(path)
    assert _words(words) == ["now", "we", "add", "the", "flour", "whisk"]
    assert [w.start for w in words[:5]] == pytest.approx([1.0, 1.4, 1.8, 2.2, 2.6])
    assert words[-1] == TimedWord("whisk", 4.5, 5.5)


def test_howto100m_json(tmp_path: Path) -> None:
    path = tmp_path / "raw_caption.json"
    captions = {
        "vidA": {"start": [0.5, 2.0], "end": [3.0, 4.0], "text": ["add the flour", "whisk"]},
        "vidB": {"start": [1], "end": [2], "text": ["[Music]"]},
    }
    path.write_text(json.dumps(captions), encoding="utf-8")
    cues = read_howto100m_json(path)
    # Overlapping ASR segments are cut at the next segment's start.
    assert cues["vidA"] == [Cue(0.5, 2.0, "add the flour"), Cue(2.0, 4.0, "whisk")]
    words = read_words(path, video_id="vidA")
    assert _words(words) == ["add", "the", "flour", "whisk"]
    assert words[1].start == pytest.approx(1.0)
    with pytest.warns(EmptySubtitlesWarning):
        assert read_words(path, video_id="vidB") == []
    # One video's object, named after the file.
    single = tmp_path / "vidC.json"
    single.write_text(json.dumps(captions["vidA"]), encoding="utf-8")
    assert _words(read_words(single)) == ["add", "the", "flour", "whisk"]


@pytest.mark.parametrize(
    ("name", "content", "line", "problem"),
    [
        ("a.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nhi\n", 3, "malformed timing"),
        ("b.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n\njust text\n", 6, "timing"),
        ("c.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nhi\n", 3, "before it starts"),
        ("d.vtt", "no header\n\n00:00:01.000 --> 00:00:02.000\nhi\n", 1, "WEBVTT"),
        ("e.srt", "1\n00:00:01,000 --> 00:00:02,000\nhi\n\n2\n00:00:03 --> x\nho\n", 6, "timing"),
        ("f.srt", "1\n00:00:01,000 --> 00:00:02,000\nhi\n\nhello\nworld\n", 5, "timing"),
        (
            "h.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nhi\n\nx\n00:00:03,000 --> 00:00:04,000\n",
            5,
            "number",
        ),
        ("g.json", '{"v": {"start": [1],\n "end": [2]\n "text": ["a"]}}', 3, "invalid JSON"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, name: str, content: str, line: int, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SubtitleFormatError) as info:
        read_words(path, video_id="v")
    assert info.value.line == line
    assert problem in str(info.value)
    assert str(path) in str(info.value) and f"line {line}" in str(info.value)


def test_malformed_json_structure(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"v": {"start": [1, 2], "end": [2], "text": ["a"]}}))
    with pytest.raises(SubtitleFormatError, match="different lengths"):
        read_words(path, video_id="v")
    path.write_text(json.dumps({"v": {"start": [3], "end": [2], "text": ["a"]}}))
    with pytest.raises(SubtitleFormatError, match="segment 0"):
        read_words(path, video_id="v")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.vtt", ""),
        ("b.vtt", "WEBVTT\n\n"),
        ("c.srt", "\n\n"),
        ("d.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n[Music]\n"),
    ],
)
def test_empty_subtitles_warn_and_give_no_words(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.warns(EmptySubtitlesWarning, match="no narration constraints"):
        assert read_words(path) == []


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(SubtitleFormatError, match="file not found"):
        read_words(tmp_path / "nope.vtt")
    other = tmp_path / "v.txt"
    other.write_text("hello")
    with pytest.raises(SubtitleFormatError, match="unknown subtitle format"):
        read_words(other)


def test_find_subtitles_and_cues_to_words(tmp_path: Path) -> None:
    (tmp_path / "abc.en.vtt").write_text("WEBVTT\n")
    (tmp_path / "xyz.srt").write_text("")
    assert find_subtitles(tmp_path, "abc") == tmp_path / "abc.en.vtt"
    assert find_subtitles(tmp_path, "xyz") == tmp_path / "xyz.srt"
    assert find_subtitles(tmp_path, "none") is None
    words = cues_to_words([Cue(2.0, 4.0, "b c"), Cue(0.0, 1.0, "a")])
    assert words == [TimedWord("a", 0.0, 1.0), TimedWord("b", 2.0, 3.0), TimedWord("c", 3.0, 4.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cues_to_words([]) == []
