"""The component step model: scores of eq. 3.1, novel tasks, persistence, localize."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from instructvid.io.crosstask import CrossTaskData, write_features
from instructvid.steps.baselines import uniform_assignment
from instructvid.steps.benchmark.methods import training_set
from instructvid.steps.benchmark.protocol import make_splits
from instructvid.steps.benchmark.runs import RunConfigError, evaluate_run, load_run, train_run
from instructvid.steps.benchmark.types import MethodOptions
from instructvid.steps.localize import localize, parse_steps
from instructvid.steps.model import LinearComponents, StepModel
from instructvid.text.components import ComponentVocabulary, UnknownComponentsWarning
from tests.steps.planted import planted_video, planted_world, prototypes

TASKS = {"1": ("pour milk", "whisk egg"), "2": ("pour water", "boil water", "add egg")}
HYPER = {"epochs_init": 4, "epochs": 8, "batch_videos": 4, "lr": 0.05}


def _model(dim: int = 5, seed: int = 0) -> StepModel:
    vocab = ComponentVocabulary.build(TASKS)
    rng = np.random.default_rng(seed)
    m = vocab.n_components
    return StepModel(vocab, rng.standard_normal((m, dim)), rng.standard_normal(m))


def test_logits_are_averages_of_component_scores() -> None:
    model = _model()
    x = np.random.default_rng(1).standard_normal((9, 5)).astype(np.float32)
    encoded = model.encode(task_id="2")
    g = x @ model.weight.T + model.bias  # (T, M) component scores
    v = model.vocabulary
    expected = np.stack(
        [
            (g[:, v.index("pour")] + g[:, v.index("water")]) / 2,
            (g[:, v.index("boil")] + g[:, v.index("water")]) / 2,
            (g[:, v.index("add")] + g[:, v.index("egg")]) / 2,
        ],
        axis=1,
    )
    np.testing.assert_allclose(model.logits(x, encoded), expected, rtol=1e-5, atol=1e-5)
    # The authors' module computes the same.
    net = LinearComponents(5, v.n_components, dropout=0.3).eval()
    with torch.no_grad():
        net.fc.weight.copy_(torch.from_numpy(model.weight))
        net.fc.bias.copy_(torch.from_numpy(model.bias))
        authors = net(torch.from_numpy(x), torch.from_numpy(v.normalised("2"))).numpy()
    np.testing.assert_allclose(authors, expected, rtol=1e-5, atol=1e-5)


def test_novel_task_of_known_words_and_unknown_word_warning() -> None:
    model = _model()
    x = np.random.default_rng(2).standard_normal((12, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model.localize(x, steps=["boil milk", "whisk water"])  # all words known
    assert out.labels.shape == (12, 2) and (out.labels.sum(axis=0) == 1).all()
    assert out.seconds[0] < out.seconds[1]
    with pytest.warns(UnknownComponentsWarning, match="ketchup"):
        out = model.localize(x, steps=["pour ketchup", "fry bacon", "add egg"])
    assert out.unknown == {0: ["ketchup"], 1: ["fri", "bacon"]}
    # A step with no known word scores the mean of the others at each second.
    lp = model.logits(x, model.encode(steps=["pour ketchup", "fry bacon", "add egg"], warn=False))
    np.testing.assert_allclose(lp[:, 1], (lp[:, 0] + lp[:, 2]) / 2, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="none of the steps"):
        model.localize(x, steps=["fry bacon"])
    with pytest.raises(ValueError, match="not seen in training"):
        model.encode(task_id="7")


def test_save_load_round_trip(tmp_path: Path) -> None:
    model = _model()
    model.save(tmp_path / "m")
    again = StepModel.load(tmp_path / "m")
    assert again.vocabulary == model.vocabulary
    assert np.array_equal(again.weight, model.weight) and np.array_equal(again.bias, model.bias)
    with pytest.raises(FileNotFoundError, match="not a trained step model"):
        StepModel.load(tmp_path / "nothing")
    with pytest.raises(ValueError, match="features must be"):
        model.logits(np.zeros((4, 3)), model.encode(task_id="1"))


def test_parse_steps() -> None:
    assert parse_steps("pour milk, whisk mixture") == ["pour milk", "whisk mixture"]
    with pytest.raises(ValueError, match="comma-separated"):
        parse_steps("pour milk,,whisk")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("world")
    data = CrossTaskData.open(planted_world(root))
    run = root / "run"
    train_run(data, run, share="component", n_train=6, options=MethodOptions(hyper=HYPER))
    return root, run


def test_run_folder_evaluate_and_read_only_data(trained_run: tuple[Path, Path]) -> None:
    root, run = trained_run
    for name in ("config.json", "split.json", "checkpoint.npz", "history.json", "model/model.npz"):
        assert (run / name).is_file(), name
    result = evaluate_run(run)
    assert result["metric"] == "recall" and result["method"] == "component"
    assert set(result["per_task"]) == {"10", "20"} and result["mean"] > 0.8
    split = json.loads((run / "split.json").read_text())
    assert result["n_videos"] == sum(len(v) for v in split["test"].values())
    assert set(split["train"]) == {"10", "20", "30", "40"}  # related tasks included
    assert not list((root / "crosstask_release").glob("*.json"))  # nothing written into DATA
    assert load_run(run).method == "component"


def test_train_run_is_idempotent_and_refuses_other_settings(trained_run: tuple[Path, Path]) -> None:
    root, run = trained_run
    data = CrossTaskData.open(root)
    again = train_run(data, run, share="component", n_train=6, options=MethodOptions(hyper=HYPER))
    assert again.already_finished
    with pytest.raises(RunConfigError, match=r"share: 'component' → 'task'"):
        train_run(data, run, share="task", n_train=6, options=MethodOptions(hyper=HYPER))
    with pytest.raises(RunConfigError, match="not a run folder"):
        load_run(root)


def test_localize_novel_task_made_of_known_words(
    trained_run: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run = trained_run
    rng = np.random.default_rng(123)
    novel = ("boil milk", "add egg", "whisk water")  # never a step; every word known
    hits = uniform_hits = total = 0
    for i in range(10):
        x, segments, _ = planted_video(novel, rng, prototypes())
        path = tmp_path / f"novel{i}.npy"
        write_features(path, x)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownComponentsWarning)
            result, payload = localize(run, path, steps=list(novel))
        uniform = uniform_assignment(len(x), len(novel)).argmax(axis=0)
        for seg, t, u in zip(segments, result.seconds, uniform, strict=True):
            hits += int(seg.start <= t < seg.end)
            uniform_hits += int(seg.start <= u < seg.end)
            total += 1
        assert payload["steps"][0]["step"] == "boil milk"
        assert payload["steps"][0]["start_s"] == float(result.seconds[0])
    print(hits / total, uniform_hits / total)
    assert hits / total > uniform_hits / total + 0.15


def test_localize_task_and_unknown_word_warning(
    trained_run: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run = trained_run
    x, _, _ = planted_video(
        ("pour milk", "whisk egg", "add sugar"), np.random.default_rng(5), prototypes()
    )
    path = tmp_path / "v.npy"
    write_features(path, x)
    result, payload = localize(run, path, task_id="10")
    assert payload["source"] == "training task" and len(result.seconds) == 3
    with pytest.warns(UnknownComponentsWarning, match="ketchup"):
        _, payload = localize(run, path, steps=["pour ketchup", "whisk egg"])
    assert payload["unknown_words"] == ["ketchup"]
    with pytest.raises(ValueError, match="exactly one"):
        localize(run, path)
    with pytest.raises(ValueError, match="neither a training task"):
        localize(run, path, task_id="999")
    write_features(tmp_path / "bad.npy", np.zeros((10, 3)))
    with pytest.raises(ValueError, match="dimensions"):
        localize(run, tmp_path / "bad.npy", task_id="10")


def test_training_set_adds_related_only_when_asked(trained_run: tuple[Path, Path]) -> None:
    data = CrossTaskData.open(trained_run[0])
    split = make_splits(data, n_splits=1, n_train=6)[0]
    assert set(training_set(data, split, related=False)) == {"10", "20"}
    assert set(training_set(data, split, related=True)) == {"10", "20", "30", "40"}


def test_checkpoint_is_npz_but_an_older_runs_pt_checkpoint_still_resumes(tmp_path: Path) -> None:
    from instructvid.steps.benchmark.runs import RunLayout

    layout = RunLayout(tmp_path)
    assert layout.checkpoint == tmp_path / "checkpoint.npz"
    (tmp_path / "checkpoint.pt").write_bytes(b"old")  # a RUN interrupted by an older version
    assert layout.checkpoint == tmp_path / "checkpoint.pt"
    (tmp_path / "checkpoint.npz").write_bytes(b"new")  # both: the current name wins
    assert layout.checkpoint == tmp_path / "checkpoint.npz"
