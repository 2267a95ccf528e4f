"""The grounding model (eq. 5.2): planted text → voxel mappings are learned, the encoder is
fine-tuned or frozen as asked, and training resumes to the same weights."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from instructvid.scene.ground_model import TrainConf, load_grounding_model, train_grounding

WORDS = ["dipstick", "battery", "filter", "reservoir", "plugs", "coolant"]
VERBS = ["remove the", "check the", "look at the", "clean the"]


def _planted(scenes=("a", "b")) -> tuple[list[tuple[str, str, int]], dict[str, int]]:
    """Each scene maps each object word to its own voxel (different per scene)."""
    data = []
    for s_i, s in enumerate(scenes):
        for w_i, w in enumerate(WORDS):
            for v in VERBS:
                data.append((s, f"{v} {w}", (w_i * 3 + s_i * 5) % 20))
    return data, dict.fromkeys(scenes, 20)


def test_tfidf_learns_a_planted_mapping(tmp_path):
    data, nv = _planted()
    line = np.c_[np.arange(20.0), np.zeros(20), np.zeros(20)]  # voxel k at x = k, edge 1
    held = [
        (s, f"please {w} now", k) for s, t, k in data if t.startswith("remove") for w in [t[11:]]
    ]
    model, log = train_grounding(
        tmp_path,
        data,
        nv,
        TrainConf(text="tfidf", epochs=30, batch_size=16),
        validation=held,
        validation_centres=dict.fromkeys(nv, (line, 1.0)),
    )
    assert log[-1]["loss"] < log[0]["loss"]
    assert log[-1]["val_accuracy"] == 1.0 and log[-1]["val_within_2"] == 1.0
    assert all(e["val_accuracy"] <= e["val_within_2"] for e in log)
    for s in ("a", "b"):
        pred = model.scores([f"please {w} now" for w in WORDS], s).argmax(axis=1)
        want = [k for (sc, t, k) in data if sc == s and t.startswith("remove")]
        assert pred.tolist() == want


@pytest.fixture(scope="module")
def planted_small():
    data, nv = _planted()
    return data[::2], nv  # 24 pairs: fast


def _encoder_weights(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.encoder.model.parameters()])


def test_minilm_loads_offline_and_finetuning_changes_the_encoder(
    tmp_path, planted_small, monkeypatch
):
    def no_network(*args, **kwargs):
        raise AssertionError("the encoder tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    data, nv = planted_small
    conf = TrainConf(text="minilm", epochs=1, batch_size=8, seed=1)
    frozen, _ = train_grounding(
        tmp_path / "frozen", data, nv, TrainConf(**{**conf.__dict__, "freeze_encoder": True})
    )
    tuned, _ = train_grounding(tmp_path / "tuned", data, nv, conf)
    # the frozen run's encoder holds the packaged weights; fine-tuning moved them
    pristine = load_grounding_model(
        tmp_path / "frozen", TrainConf(text="minilm", freeze_encoder=True), nv
    )
    assert torch.equal(_encoder_weights(frozen), _encoder_weights(pristine))
    assert not torch.allclose(_encoder_weights(tuned), _encoder_weights(pristine))
    reloaded = load_grounding_model(tmp_path / "tuned", conf, nv)
    assert torch.equal(_encoder_weights(reloaded), _encoder_weights(tuned))


def test_frozen_minilm_learns_a_planted_mapping(tmp_path):
    data, nv = _planted(("a",))
    model, _ = train_grounding(
        tmp_path,
        data,
        nv,
        TrainConf(text="minilm", freeze_encoder=True, epochs=40, batch_size=24, lr_head=3e-2),
    )
    pred = model.scores([f"remove the {w}" for w in WORDS], "a").argmax(axis=1)
    assert pred.tolist() == [(w_i * 3) % 20 for w_i in range(len(WORDS))]


class _Stop(Exception):
    pass


def test_resume_after_kill_gives_the_same_weights(tmp_path, planted_small):
    data, nv = planted_small
    conf = TrainConf(text="minilm", epochs=2, batch_size=8, seed=3)
    straight, _ = train_grounding(tmp_path / "straight", data, nv, conf)
    steps = 3  # 24 pairs / 8

    def kill_in_second_epoch(done: int, total: int) -> None:
        if done == steps + 1:  # one step into epoch 2, after epoch 1's checkpoint
            raise _Stop

    with pytest.raises(_Stop):
        train_grounding(tmp_path / "resumed", data, nv, conf, progress=kill_in_second_epoch)
    resumed, log = train_grounding(tmp_path / "resumed", data, nv, conf)
    assert [e["epoch"] for e in log] == [1, 2]
    assert torch.equal(_encoder_weights(resumed), _encoder_weights(straight))
    for s in nv:
        a, b = straight.heads[s].weight, resumed.heads[s].weight
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="other settings"):
        train_grounding(
            tmp_path / "resumed", data, nv, TrainConf(text="minilm", epochs=2, batch_size=8, seed=4)
        )


def test_bad_text_option_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="minilm, tfidf or a folder"):
        TrainConf(text=str(tmp_path / "missing")).check()
