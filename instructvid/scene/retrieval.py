"""Frame pairs across videos (thesis §5.3.2): a global descriptor per frame and top-N_M pairs.

The thesis uses NetVLAD (VGG16). Offline default here: **VLAD** on the frames' own local
descriptors — NetVLAD's non-learned ancestor (Jégou et al. 2010): a codebook of K words is fit by
k-means (seeded) on a sample of the local descriptors of all frames being compared, each frame's
residuals to their nearest word are summed per word, then intra-normalised, power-normalised
(signed square root) and L2-normalised; similarity = dot product. A learned global descriptor
plugs in as ``torch:<weights.pt2|.pt>`` (torch.export or TorchScript): a module taking a (1, 3, H, W) float32 RGB
tensor in [0, 1] and returning a (D,) or (1, D) descriptor (e.g. NetVLAD weights of the user's).

:func:`top_pairs` chooses the N_M frame pairs between two videos: for every frame of A its nearest
frame of B, then the N_M most similar of those pairs (so the pairs spread over A's frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["TorchScriptGlobal", "Vlad", "top_pairs", "vlad"]


def vlad(descriptors: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """VLAD of one image: (N, D) local descriptors, (K, D) codebook → (K·D,) unit vector."""
    desc = np.asarray(descriptors, np.float32)
    words = np.asarray(codebook, np.float32)
    if desc.ndim != 2 or words.ndim != 2 or (len(desc) and desc.shape[1] != words.shape[1]):
        raise ValueError(
            f"expected (N, D) descriptors and (K, D) codebook, got {desc.shape}, {words.shape}"
        )
    out = np.zeros_like(words)
    if len(desc):
        assign = np.argmax(desc @ words.T, axis=1)  # unit-norm rows: max dot = nearest
        np.add.at(out, assign, desc - words[assign])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out = np.where(norms > 0, out / np.maximum(norms, 1e-12), 0.0)  # intra-normalisation
    v = out.ravel()
    v = np.sign(v) * np.sqrt(np.abs(v))
    n = np.linalg.norm(v)
    return (v / n if n > 0 else v).astype(np.float32)


@dataclass
class Vlad:
    """VLAD with a codebook fit by seeded k-means on the descriptors it will describe."""

    n_words: int = 32
    sample: int = 40000
    seed: int = 0
    name: str = "vlad"

    def fit(self, descriptor_sets: Sequence[np.ndarray]) -> Vlad:
        from sklearn.cluster import KMeans

        all_desc = np.concatenate([np.asarray(d, np.float32) for d in descriptor_sets if len(d)])
        if len(all_desc) < self.n_words:
            raise ValueError(
                f"VLAD needs at least {self.n_words} local descriptors, got {len(all_desc)}"
            )
        rng = np.random.default_rng(self.seed)
        if len(all_desc) > self.sample:
            all_desc = all_desc[rng.choice(len(all_desc), self.sample, replace=False)]
        km = KMeans(self.n_words, n_init=1, random_state=self.seed, max_iter=50).fit(all_desc)
        words = km.cluster_centers_.astype(np.float32)
        self.codebook_ = words / np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-12)
        return self

    def describe(self, descriptors: np.ndarray) -> np.ndarray:
        """(N, D) local descriptors of one frame → (K·D,) global descriptor."""
        if not hasattr(self, "codebook_"):
            raise RuntimeError("Vlad.describe before fit")
        return vlad(descriptors, self.codebook_)


@dataclass
class TorchScriptGlobal:
    """A learned global descriptor from a TorchScript file of the user's (module docstring)."""

    weights: str
    max_image_size: int = 640
    name: str = "torchscript"

    def __post_init__(self) -> None:
        from instructvid.scene.features import load_torch_model

        self._model = load_torch_model(self.weights)

    def describe_image(self, rgb: np.ndarray) -> np.ndarray:
        import cv2
        import torch

        h, w = rgb.shape[:2]
        s = min(1.0, self.max_image_size / max(h, w))
        if s < 1.0:
            rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float()[None] / 255.0
        with torch.no_grad():
            d = self._model(x).reshape(-1).numpy().astype(np.float32)
        return d / max(float(np.linalg.norm(d)), 1e-12)


def top_pairs(desc_a: np.ndarray, desc_b: np.ndarray, n: int) -> list[tuple[int, int, float]]:
    """The ``n`` best frame pairs ``(i in A, j in B, similarity)``, best first.

    Args:
        desc_a: (Na, D) unit global descriptors of A's frames.
        desc_b: (Nb, D) those of B's frames.
        n: N_M, number of pairs (each frame of A at most once).
    """
    a, b = np.asarray(desc_a, np.float32), np.asarray(desc_b, np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected (Na, D) and (Nb, D) descriptors, got {a.shape} and {b.shape}")
    if len(a) == 0 or len(b) == 0 or n <= 0:
        return []
    sim = a @ b.T
    j = np.argmax(sim, axis=1)
    s = sim[np.arange(len(a)), j]
    order = np.argsort(-s, kind="stable")[:n]
    return [(int(i), int(j[i]), float(s[i])) for i in order]
