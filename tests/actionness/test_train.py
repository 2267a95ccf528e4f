"""Training at scale: the cumulative-sum store, refusal of evaluation videos, exact resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from instructvid.actionness.checkpoint import RunMismatchError
from instructvid.actionness.config import TrainConfig
from instructvid.actionness.estimator import ActionnessEstimator
from instructvid.actionness.model import mean_clip_features
from instructvid.actionness.model_io import load_model
from instructvid.actionness.sampling import TrainEvalOverlapError
from instructvid.actionness.store import FeatureStore
from instructvid.actionness.train import train_actionness
from instructvid.io.crosstask import write_features


def _videos(root: Path, n: int = 12, dim: int = 6, seed: int = 0) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        t = int(rng.integers(60, 140))
        # A drift along the first axis makes order learnable; offset tests the centring.
        x = rng.standard_normal((t, dim)).astype(np.float32) + 50.0
        x[:, 0] += np.linspace(0, 3, t)
        out[f"v{i:02d}"] = write_features(root / f"v{i:02d}.npy", x)
    return out


CFG = TrainConfig(range_s=40, epochs=3, batch_size=64, sequences_per_video=16, lr=1e-2, seed=1)


def test_store_clip_means_equal_direct_means_up_to_the_video_mean(tmp_path: Path) -> None:
    feats = _videos(tmp_path / "f")
    store = FeatureStore.build(tmp_path / "store", feats)
    assert store.video_ids == sorted(feats)
    vids = np.array([0, 3, 3, 7])
    starts = np.array([[0, 5, 9], [10, 20, 30], [1, 2, 3], [40, 41, 50]])
    clip = np.array([4, 7, 1, 3])
    got = store.clip_means(vids, starts, clip)
    for b, v in enumerate(vids):
        x = np.load(feats[store.video_ids[v]]).astype(np.float64)
        want = mean_clip_features(x, starts[b], starts[b] + clip[b]) - x.mean(0)
        np.testing.assert_allclose(got[b], want, atol=2e-4)
    # Re-opening with the same files reuses the store; changed files rebuild it.
    again = FeatureStore.build(tmp_path / "store", feats)
    assert again.fingerprint == store.fingerprint
    write_features(feats["v00"], np.zeros((61, 6)))
    assert FeatureStore.build(tmp_path / "store", feats).fingerprint != store.fingerprint


def test_training_refuses_evaluation_videos(tmp_path: Path) -> None:
    feats = _videos(tmp_path / "f", n=3)
    with pytest.raises(
        TrainEvalOverlapError, match=r"1 training video\(s\) are also in the test list: v01"
    ):
        train_actionness(
            feats,
            tmp_path / "run",
            config=CFG,
            eval_videos=["v01", "zz"],
            eval_source="the test list",
        )
    assert not (tmp_path / "run").exists()  # refused before any work


@pytest.mark.parametrize("engine", ["fused", "torch"])
def test_resume_after_a_kill_gives_the_same_weights(tmp_path: Path, engine: str) -> None:
    feats = _videos(tmp_path / "f")
    full = train_actionness(
        feats, tmp_path / "full", config=CFG, store_dir=tmp_path / "store", engine=engine
    )

    class Killed(Exception):
        pass

    def kill_after_two(epoch: int, stats: dict) -> None:
        if epoch == 2:
            raise Killed

    with pytest.raises(Killed):
        train_actionness(
            feats,
            tmp_path / "part",
            config=CFG,
            store_dir=tmp_path / "store",
            on_epoch_end=kill_after_two,
            engine=engine,
        )
    assert not (tmp_path / "part" / "model.pt").exists()
    epochs_run = []
    resumed = train_actionness(
        feats,
        tmp_path / "part",
        config=CFG,
        store_dir=tmp_path / "store",
        on_epoch_end=lambda e, s: epochs_run.append(e),
        engine=engine,
    )
    assert epochs_run == [3]  # continued after the last finished epoch
    for key, value in full.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [h["loss"] for h in full.history] == [h["loss"] for h in resumed.history]
    # The learning rate decays by 0.9 per epoch; the model learned the order.
    assert [h["lr"] for h in full.history] == pytest.approx([1e-2, 9e-3, 8.1e-3])
    assert full.history[-1]["accuracy"] > 0.7
    # Other settings in the same folder are refused.
    with pytest.raises(RunMismatchError, match="other settings"):
        train_actionness(
            feats,
            tmp_path / "part",
            config=TrainConfig(range_s=41, epochs=3),
            store_dir=tmp_path / "store",
            engine=engine,
        )
    model, meta = load_model(tmp_path / "full")
    assert torch.equal(model.weight, full.model.weight.cpu())
    assert meta["config"]["range_s"] == 40


def test_custom_clip_function_path_matches_the_store(tmp_path: Path) -> None:
    feats = _videos(tmp_path / "f")
    cfg = TrainConfig(range_s=40, epochs=1, batch_size=64, sequences_per_video=8, lr=1e-2)
    fast = train_actionness(feats, tmp_path / "a", config=cfg)
    slow = train_actionness(feats, tmp_path / "b", config=cfg, clip_fn=mean_clip_features)
    # Same sequences; centring changes nothing but rounding.
    torch.testing.assert_close(fast.model.weight, slow.model.weight, atol=1e-4, rtol=1e-3)


def test_equal_categories_and_estimator(tmp_path: Path) -> None:
    feats = _videos(tmp_path / "f")
    cats = {v: ("x" if i < 9 else "y") for i, v in enumerate(sorted(feats))}
    cfg = TrainConfig(
        range_s=40, epochs=1, batch_size=64, equal_categories=True, min_category_videos=3
    )
    result = train_actionness(feats, tmp_path / "run", config=cfg, categories=cats)
    assert result.history[0]["sequences"] == 6  # 3 videos from each of the 2 categories
    with pytest.raises(ValueError, match="no category has at least 10"):
        train_actionness(
            feats,
            tmp_path / "run2",
            config=TrainConfig(equal_categories=True, min_category_videos=10),
            categories=cats,
        )
    est = ActionnessEstimator(range_s=40, epochs=1, batch_size=64, sequences_per_video=4)
    est.fit(feats, tmp_path / "est")
    s = est.score_video(np.load(feats["v00"]))
    assert s.shape == (np.load(feats["v00"]).shape[0],) and np.isfinite(s).all()


def test_fused_engine_matches_torch_autograd(tmp_path: Path) -> None:
    from instructvid.actionness.fused import fused_loss_grad
    from instructvid.actionness.model import ActionnessModel
    from instructvid.actionness.sampling import SequenceSampler

    feats = _videos(tmp_path / "f", dim=7)
    store = FeatureStore.build(tmp_path / "store", feats)
    rng = np.random.default_rng(0)
    sampler = SequenceSampler(store.lengths, 40, n_clips=5, trim=0.3)
    vids = rng.integers(0, len(feats), 50)
    starts, clip = sampler.sample(vids, rng)
    y = (rng.random(50) < 0.5).astype(np.float64)
    model = ActionnessModel(7, init_std=0.5, seed=2)
    with torch.no_grad():
        model.bias.fill_(0.3)
    h = torch.from_numpy(store.clip_means(vids, starts, clip).copy())
    loss = model.loss(h, torch.from_numpy(y).float())
    loss.backward()
    g = model(h).detach()
    f_loss, f_correct, f_grad = fused_loss_grad(store, vids, starts, clip, y, model)
    assert f_loss == pytest.approx(loss.item(), rel=1e-5)
    assert f_correct == int(((g > 0).numpy() == (y > 0.5)).sum())
    np.testing.assert_allclose(f_grad, model.weight.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert abs(model.bias.grad.item()) < 1e-6  # b gets no gradient
    # Whole runs with either engine end close to each other.
    cfg = TrainConfig(range_s=40, epochs=2, batch_size=64, sequences_per_video=16, lr=1e-2)
    a = train_actionness(feats, tmp_path / "a", config=cfg, engine="fused")
    b = train_actionness(feats, tmp_path / "b", config=cfg, engine="torch")
    torch.testing.assert_close(a.model.weight, b.model.weight, atol=1e-4, rtol=1e-3)
    with pytest.raises(ValueError, match="engine must be"):
        train_actionness(feats, tmp_path / "c", config=cfg, engine="gpu")
