"""``read_text`` / ``read_json_object``: a missing or undecodable file is the reader's error."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructvid.io.coin import CoinFormatError
from instructvid.io.subtitles import SubtitleFormatError
from instructvid.io.text_file import read_json_object, read_text


def test_read_text_names_the_file_with_the_readers_error(tmp_path: Path) -> None:
    with pytest.raises(SubtitleFormatError, match="file not found"):
        read_text(tmp_path / "none.vtt", SubtitleFormatError)
    with pytest.raises(SubtitleFormatError, match="expected a list"):
        read_text(tmp_path / "none.vtt", SubtitleFormatError, missing="expected a list")
    bad = tmp_path / "bad.vtt"
    bad.write_bytes(b"ok \xff\xfe")
    with pytest.raises(SubtitleFormatError, match=r"bad\.vtt: not UTF-8 text"):
        read_text(bad, SubtitleFormatError)


def test_read_text_drops_a_byte_order_mark_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffhello".encode())
    assert read_text(path, SubtitleFormatError, encoding="utf-8-sig") == "hello"
    assert read_text(path, SubtitleFormatError) == "\ufeffhello"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (b'{"a": "\xff"}', "not valid UTF-8 JSON"),
        (b"[1, 2]", "need a db"),
        (b'{"db": [1]}', "need a db"),
    ],
)
def test_read_json_object_refuses_what_is_not_an_object_under_the_key(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(CoinFormatError, match=problem) as info:
        read_json_object(path, CoinFormatError, missing="gone", key="db", expected="need a db")
    assert info.value.path == path


def test_read_json_object_returns_text_and_data(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"db": {"a": 1}, "v": 2}\n', encoding="utf-8")
    text, data = read_json_object(path, CoinFormatError, missing="gone", key="db", expected="?")
    assert text == path.read_text(encoding="utf-8")
    assert data == {"db": {"a": 1}, "v": 2}
    with pytest.raises(CoinFormatError, match="gone"):
        read_json_object(
            tmp_path / "no.json", CoinFormatError, missing="gone", key="db", expected="?"
        )
