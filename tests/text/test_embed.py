"""Text representations (instructvid.text.embed): unit vectors, windows, MiniLM, learned aggregation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from instructvid.text.embed import load_encoder
from instructvid.text.encoder import window_bounds
from instructvid.text.learned import train_aggregation
from instructvid.text.minilm import MiniLMEncoder
from instructvid.text.paragraphs import read_paragraphs
from instructvid.text.tfidf import TfidfEncoder
from instructvid.text.wordvec import WordVectorEncoder

CORPUS = [
    "now we add the flour to the bowl",
    "then whisk the eggs with a fork",
    "pour the milk into the pan and flip the pancake",
    "add some sugar and whisk again",
    "hi guys welcome back to my channel",
    "thanks for watching see you next time",
] * 5

PARAGRAPHS = """# Make Pancakes
Add the flour. Use a big bowl for the flour. Sift the flour first.
Whisk the eggs. Beat the eggs with a fork. The eggs should be foamy.
Pour the milk. Add the milk slowly. Warm milk works best.

# Change a Tire
Loosen the nuts. Turn the wrench to loosen each nut. Do not remove the nuts yet.
Jack up the car. Place the jack under the car. Raise the car slowly.
Remove the tire. Pull the tire toward you. Put the tire aside.
"""


def _assert_unit_rows(x: np.ndarray) -> None:
    norms = np.linalg.norm(x, axis=1)
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)


def test_window_bounds() -> None:
    lo, hi = window_bounds(5, 3)
    assert lo.tolist() == [0, 0, 1, 2, 3] and hi.tolist() == [2, 3, 4, 5, 5]
    lo, hi = window_bounds(7, 4, stride=3)
    assert lo.tolist() == [0, 1, 4] and hi.tolist() == [2, 5, 7]
    with pytest.raises(ValueError):
        window_bounds(3, 0)


def test_tfidf_unit_vectors_and_fast_windows_match_embed(tmp_path: Path) -> None:
    enc = TfidfEncoder().fit(CORPUS)
    x = enc.embed(["add flour", "unknownword", "Whisk the EGGS"])
    _assert_unit_rows(x)
    assert not x[1].any()  # no known token: a zero row
    words = "hi guys now we add the flour then whisk the eggs thanks".split()
    steps = ["add flour", "whisk eggs"]
    fast = enc.window_similarity(words, steps, window=4, stride=2)
    slow = super(TfidfEncoder, enc).window_similarity(words, steps, window=4, stride=2)
    assert fast.shape == (6, 2)
    assert np.allclose(fast, slow, atol=1e-6)
    assert np.argmax(fast[:, 0]) == 3  # centre word 6: "add the flour then"
    assert np.argmax(fast[:, 1]) == 5  # centre word 10: "whisk the eggs thanks"
    again = load_encoder(enc.save(tmp_path / "tfidf"))
    assert np.allclose(again.embed(steps), enc.embed(steps))
    # A representation loads its own saved folders only (``learned`` loads its ``wordvec``).
    again = TfidfEncoder.load(tmp_path / "tfidf")
    assert isinstance(again, TfidfEncoder) and np.allclose(again.embed(steps), enc.embed(steps))
    with pytest.raises(ValueError, match="a saved 'tfidf' encoder, expected 'wordvec'"):
        WordVectorEncoder.load(tmp_path / "tfidf")
    with pytest.raises(FileNotFoundError, match="not a saved text encoder"):
        TfidfEncoder.load(tmp_path)


def test_word_vectors_max_pooling(tmp_path: Path) -> None:
    enc = WordVectorEncoder(dim=16, epochs=5, min_count=1).fit(CORPUS)
    x = enc.embed(["add flour", "whisk eggs", ""])
    _assert_unit_rows(x)
    assert x.shape == (3, 16) and not x[2].any()
    words = "now we add the flour then whisk the eggs".split()
    fast = enc.window_similarity(words, ["add flour"], window=3)
    slow = super(WordVectorEncoder, enc).window_similarity(words, ["add flour"], window=3)
    assert np.allclose(fast, slow, atol=1e-5)
    again = load_encoder(enc.save(tmp_path / "wv"))
    assert np.allclose(again.embed(["add flour"]), x[:1], atol=1e-6)


@pytest.fixture(scope="module")
def minilm() -> MiniLMEncoder:
    enc = MiniLMEncoder()
    enc.model  # noqa: B018 - load once for the module
    return enc


def test_minilm_loads_offline_and_ranks_similar_sentences_higher(
    minilm: MiniLMEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    x = minilm.embed(
        ["pour the milk into the glass", "add milk to the cup", "change the flat tire of the car"]
    )
    assert x.shape == (3, 384)
    _assert_unit_rows(x)
    sim = x @ x.T
    assert sim[0, 1] > sim[0, 2] + 0.3
    w = minilm.window_similarity(
        "hi everyone now pour some milk into a glass and then loosen the lug nuts".split(),
        ["pour milk", "loosen nuts"],
        window=4,
        stride=2,
    )
    assert w.shape == (8, 2)
    assert np.argmax(w[:, 0]) < np.argmax(w[:, 1])


def test_read_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text(PARAGRAPHS, encoding="utf-8")
    articles = read_paragraphs(path)
    assert len(articles) == 2 and [len(a) for a in articles] == [3, 3]
    assert articles[0][0] == [
        "Add the flour.",
        "Use a big bowl for the flour.",
        "Sift the flour first.",
    ]
    path.write_text("one paragraph only.\n\nanother article.\n")
    with pytest.raises(ValueError, match="two or more paragraphs"):
        read_paragraphs(path)


def test_learned_aggregation_training_lowers_the_triplet_loss(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text(PARAGRAPHS, encoding="utf-8")
    articles = read_paragraphs(path)
    sentences = [s for a in articles for p in a for s in p]
    vectors = WordVectorEncoder(dim=16, epochs=5, min_count=1).fit(sentences + CORPUS)
    enc = train_aggregation(articles, vectors, dim=32, epochs=15, lr=1e-2, random_state=0)
    loss = enc.history_.loss
    assert len(loss) == 16
    assert loss[-1] < 0.5 * loss[0]
    x = enc.embed(["Sift the flour.", "Add the flour.", "Raise the car slowly."])
    _assert_unit_rows(x)
    assert x[0] @ x[1] > x[0] @ x[2]
    words = "so now add the flour and then raise the car".split()
    fast = enc.window_similarity(words, ["add flour"], window=3)
    slow = super(type(enc), enc).window_similarity(words, ["add flour"], window=3)
    assert np.allclose(fast, slow, atol=1e-5)
    again = load_encoder(enc.save(tmp_path / "learned"))
    assert np.allclose(again.embed(["Add the flour."]), x[1:2], atol=1e-5)
    assert again.history_.loss == pytest.approx(loss)
