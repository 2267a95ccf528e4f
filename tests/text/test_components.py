"""Components, vocabulary and A matrices at every sharing level (thesis §3.4.1, eq. 3.1)."""

from __future__ import annotations

import numpy as np
import pytest

from instructvid.text.components import (
    SHARE_LEVELS,
    ComponentVocabulary,
    normalise_columns,
    step_components,
    tokenize,
)

# A hand-made pair of tasks: "pour milk" is shared verbatim, "pour" and "milk" as words.
TASKS = {
    "1": ("pour milk", "whisk eggs"),
    "2": ("pour milk", "pour water", "boil water"),
}


def test_tokenize_stems_and_keeps_prepositions() -> None:
    assert tokenize("Pour the Mixture into cups") == ["pour", "the", "mixtur", "into", "cup"]
    assert tokenize("Pour the Mixture into cups", stem=False) == [
        "pour",
        "the",
        "mixture",
        "into",
        "cups",
    ]
    assert step_components("add egg and eggs") == ("add", "egg", "and")


def _rows(vocab: ComponentVocabulary, task_id: str) -> list[set[str]]:
    a = vocab.matrix(task_id)
    return [{vocab.components[m] for m in np.flatnonzero(row)} for row in a]


def test_component_level_shares_words_across_tasks() -> None:
    vocab = ComponentVocabulary.build(TASKS, share="component")
    assert vocab.components == ("boil", "egg", "milk", "pour", "water", "whisk")
    assert _rows(vocab, "1") == [{"pour", "milk"}, {"whisk", "egg"}]
    assert _rows(vocab, "2") == [{"pour", "milk"}, {"pour", "water"}, {"boil", "water"}]
    a = vocab.matrix("2")
    assert a.shape == (3, 6) and a.dtype == np.uint8


def test_component_task_level_keeps_words_within_tasks() -> None:
    vocab = ComponentVocabulary.build(TASKS, share="component-task")
    assert vocab.n_components == 4 + 4  # {pour, milk, whisk, egg} + {pour, milk, water, boil}
    assert _rows(vocab, "1") == [{"1:pour", "1:milk"}, {"1:whisk", "1:egg"}]
    assert _rows(vocab, "2")[1] == {"2:pour", "2:water"}
    # Same word, different tasks: different classifiers.
    assert not set(np.flatnonzero(vocab.matrix("1").any(0))) & set(
        np.flatnonzero(vocab.matrix("2").any(0))
    )


def test_step_level_one_classifier_per_unique_step_text() -> None:
    vocab = ComponentVocabulary.build(TASKS, share="step")
    assert vocab.components == ("boil water", "pour milk", "pour water", "whisk egg")
    assert _rows(vocab, "1") == [{"pour milk"}, {"whisk egg"}]
    # "pour milk" of both tasks is the same classifier.
    assert vocab.matrix("1")[0].tolist() == vocab.matrix("2")[0].tolist()


def test_task_level_one_classifier_per_task_step() -> None:
    vocab = ComponentVocabulary.build(TASKS, share="task")
    assert vocab.n_components == 5
    assert (vocab.matrix("1").sum(axis=1) == 1).all()
    assert (vocab.matrix("2").sum(axis=1) == 1).all()
    assert not (vocab.matrix("1").sum(0) @ vocab.matrix("2").sum(0))  # nothing shared


@pytest.mark.parametrize("share", SHARE_LEVELS)
def test_normalised_columns_sum_to_one_and_json_round_trip(share: str) -> None:
    vocab = ComponentVocabulary.build(TASKS, share=share)
    for task_id in TASKS:
        a = vocab.normalised(task_id)
        assert a.shape == (vocab.n_components, len(TASKS[task_id]))
        np.testing.assert_allclose(a.sum(axis=0), 1.0, rtol=1e-6)
    again = ComponentVocabulary.from_json(vocab.to_json())
    assert again == vocab
    assert (again.matrix("2") == vocab.matrix("2")).all()


def test_encode_new_steps_reports_unknown_words() -> None:
    vocab = ComponentVocabulary.build(TASKS, share="component")
    encoded = vocab.encode(["pour eggs", "whisk ketchup", "fry bacon"])
    assert encoded.unknown == {1: ["ketchup"], 2: ["fri", "bacon"]}
    assert encoded.n_unscorable == 1
    assert encoded.matrix[0].sum() == 2 and encoded.matrix[1].sum() == 1
    # Task-specific levels have no classifier for a task they were not built from.
    task_vocab = ComponentVocabulary.build(TASKS, share="task")
    assert task_vocab.encode(["pour milk"], task_id="99").n_unscorable == 1
    assert task_vocab.encode(["pour milk"], task_id="1").n_unscorable == 0


def test_no_stem_matches_the_authors_split() -> None:
    vocab = ComponentVocabulary.build({"1": ("add eggs", "add egg")}, stem=False)
    assert vocab.components == ("add", "egg", "eggs")
    assert ComponentVocabulary.build({"1": ("add eggs", "add egg")}).components == ("add", "egg")


def test_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="sharing level"):
        ComponentVocabulary.build(TASKS, share="words")
    with pytest.raises(ValueError, match="no word"):
        ComponentVocabulary.build({"1": ("pour milk", "!!")})
    with pytest.raises(KeyError, match="not in the vocabulary"):
        ComponentVocabulary.build(TASKS).matrix("3")
    assert normalise_columns(np.zeros((3, 2))).sum() == 0
