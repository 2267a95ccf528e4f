"""Every file reader raises a FormatError that names the file (and the line or video)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from instructvid.io.coin import CoinFormatError, read_coin
from instructvid.io.crosstask import CrossTaskFormatError, read_segments
from instructvid.io.errors import FormatError
from instructvid.io.proposals import ProposalFormatError
from instructvid.io.scores import ScoreFileError, ScoreFileNotFoundError
from instructvid.io.subtitles import SubtitleFormatError


@pytest.mark.parametrize(
    ("error", "where"),
    [
        (CrossTaskFormatError("a.csv", "bad", 3), "a.csv, line 3: bad"),
        (SubtitleFormatError("a.vtt", "bad", 7), "a.vtt, line 7: bad"),
        (CoinFormatError("c.json", "bad", "vid1"), "c.json, video 'vid1': bad"),
        (ProposalFormatError("p.json", "bad", None), "p.json: bad"),
        (ScoreFileError("s.npy", "bad"), "s.npy: bad"),
        (ScoreFileNotFoundError("s.npy", "bad"), "s.npy: bad"),
    ],
)
def test_every_reader_error_is_a_format_error_with_its_location(
    error: FormatError, where: str
) -> None:
    assert isinstance(error, FormatError) and isinstance(error, ValueError)
    assert str(error) == where
    assert error.problem == "bad" and error.path == Path(where.split(",")[0].split(":")[0])
    back = pickle.loads(pickle.dumps(error))  # crosses process pools intact
    assert type(back) is type(error) and str(back) == str(error)
    assert (back.line, back.video) == (error.line, error.video)


def test_real_readers_raise_catchable_format_errors(tmp_path: Path) -> None:
    seg = tmp_path / "t_v.csv"
    seg.write_text("1,0.0,2.0\nx,1,2\n")
    with pytest.raises(FormatError) as info:
        read_segments(seg)
    assert info.value.path == seg and info.value.line == 2
    coin = tmp_path / "coin.json"
    coin.write_text("[]")
    with pytest.raises(FormatError) as info2:
        read_coin(coin)
    assert info2.value.path == coin
