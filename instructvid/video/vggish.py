"""The audio block of the CrossTask features: VGGish (Hershey et al. 2017), user weights.

The network is VGGish with the module names of the widely used PyTorch port
(``harritaylor/torchvggish``), so its released state dict ``vggish-10086976.pth`` loads as it is:
``features.{0,3,6,8,11,13}`` the 3 × 3 convolutions (64, 128, 256, 256, 512, 512 channels, ReLU,
2 × 2 max-pooling after the 1st, 2nd, 4th and 6th), ``embeddings.{0,2,4}`` the fully connected
layers 12288 → 4096 → 4096 → 128, each followed by a ReLU (the final one too: the port and the
TensorFlow model before 2020 have it; ``final_relu=False`` gives the pre-activation embedding of
today's TensorFlow release). Its input is one log-mel example (1, 96 frames, 64 bands)
(:mod:`instructvid.video.audio`); before the fully connected layers the (channels, 6, 4) map is
flattened in TensorFlow's (6, 4, channels) order, as the converted weights expect. About 72.1 M
parameters.

The widths are read from the state dict's tensors, so a state dict with the same names and
smaller widths builds a smaller network (how the loading is tested); another layout is refused
naming the file and the first tensor that differs.

PCA (``pca``): the AudioSet release's post-processing, the whitening PCA of the file
``vggish_pca_params`` (``.npz`` of the TensorFlow release or ``vggish_pca_params-970ea276.pth``
of the port: ``pca_eigen_vectors`` (128, 128), ``pca_means`` (128,)), then clipping to [-2, 2]
and 8-bit quantisation (the TensorFlow release's truncation), returned as float32 values
0 … 255 (``quantize=False``: the PCA'd floats, not clipped).

Not tested against the real weights (they are not on a package registry); the loading code is
tested on random state dicts of the same layout, and the forward pass for shapes and the order
of the flattening.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from instructvid.types import PathLike
from instructvid.video.audio import EXAMPLE_FRAMES, MEL_BANDS, AudioStream, stream_examples
from instructvid.video.weights import WeightsError, fit_state_dict, load_state_dict

__all__ = ["CONV_LAYERS", "FC_LAYERS", "VGGish", "VGGishAudio", "load_pca", "postprocess"]

#: Indices in ``features`` of the convolutions, and whether a 2 × 2 max-pool follows each.
CONV_LAYERS = ((0, True), (3, True), (6, False), (8, True), (11, False), (13, True))
#: Indices in ``embeddings`` of the fully connected layers.
FC_LAYERS = (0, 2, 4)
FULL_WIDTHS = (64, 128, 256, 256, 512, 512)
FULL_FC = (4096, 4096, 128)
QUANTIZE_RANGE = (-2.0, 2.0)


class VGGish(nn.Module):
    """VGGish: log-mel examples (B, 1, 96, 64) → embeddings (B, ``fc[-1]``).

    Args:
        widths: output channels of the six convolutions.
        fc: output widths of the three fully connected layers (the last is the embedding).
        final_relu: a ReLU after the last fully connected layer (the port's and the AudioSet
            2017 model's); ``False`` for the pre-activation embedding.
    """

    def __init__(
        self,
        widths: tuple[int, ...] = FULL_WIDTHS,
        fc: tuple[int, ...] = FULL_FC,
        *,
        final_relu: bool = True,
    ) -> None:
        super().__init__()
        if len(widths) != len(CONV_LAYERS) or len(fc) != len(FC_LAYERS):
            raise ValueError(f"VGGish has 6 convolutions and 3 fc layers, got {widths}, {fc}")
        layers: list[nn.Module] = []
        cin = 1
        for width, (_, pool) in zip(widths, CONV_LAYERS, strict=True):
            layers += [nn.Conv2d(cin, width, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            if pool:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            cin = width
        self.features = nn.Sequential(*layers)
        pools = sum(pool for _, pool in CONV_LAYERS)
        self.map_size = (EXAMPLE_FRAMES >> pools, MEL_BANDS >> pools)  # (6, 4)
        flat = cin * self.map_size[0] * self.map_size[1]
        self.embeddings = nn.Sequential(
            nn.Linear(flat, fc[0]),
            nn.ReLU(inplace=True),
            nn.Linear(fc[0], fc[1]),
            nn.ReLU(inplace=True),
            nn.Linear(fc[1], fc[2]),
            nn.ReLU(inplace=True) if final_relu else nn.Identity(),
        )
        self.dim = fc[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (B, C, 6, 4)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # TensorFlow's (6, 4, C) order
        return self.embeddings(x)

    @classmethod
    def for_state_dict(cls, state: dict, *, final_relu: bool = True) -> VGGish:
        """The network whose widths are those of ``state``'s tensors (the full one when a
        tensor is missing or not of a convolution / linear shape: loading then names it)."""
        try:
            widths = []
            for index, _ in CONV_LAYERS:
                weight = state[f"features.{index}.weight"]
                if weight.ndim != 4:
                    raise KeyError(index)
                widths.append(int(weight.shape[0]))
            fc = []
            for index in FC_LAYERS:
                weight = state[f"embeddings.{index}.weight"]
                if weight.ndim != 2:
                    raise KeyError(index)
                fc.append(int(weight.shape[0]))
        except KeyError:
            widths, fc = list(FULL_WIDTHS), list(FULL_FC)
        return cls(tuple(widths), tuple(fc), final_relu=final_relu)


def load_pca(path: PathLike, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The AudioSet PCA parameters: ``(eigen_vectors (dim, dim), means (dim,))`` float64.

    Reads the TensorFlow release's ``.npz`` or the port's ``.pth`` (keys ``pca_eigen_vectors``
    and ``pca_means``, tensors or numpy arrays); anything else is a :class:`WeightsError`
    naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: VGGish PCA parameters file not found")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                params = {k: np.asarray(data[k]) for k in data.files}
        else:
            params = _torch_pca(path)
    except WeightsError:
        raise
    except Exception as exc:
        raise WeightsError(
            f"{path}: not VGGish PCA parameters ({type(exc).__name__}: {exc})"
        ) from None
    want = {"pca_eigen_vectors": (dim, dim), "pca_means": (dim,)}
    out = []
    for key, shape in want.items():
        if key not in params:
            raise WeightsError(f"{path}: not VGGish PCA parameters: no {key!r}")
        value = np.asarray(params[key], np.float64)
        if value.size != int(np.prod(shape)) or (key == "pca_eigen_vectors" and value.ndim != 2):
            raise WeightsError(
                f"{path}: {key} has shape {value.shape}, expected {shape} for {dim}-d embeddings"
            )
        out.append(value.reshape(shape))
    return out[0], out[1]


def _torch_pca(path: Path) -> dict:
    """The arrays of a ``.pth`` PCA file: tensors, or numpy arrays (only numpy's array
    rebuilding is allowed to the safe unpickler, under its numpy 1 and numpy 2 names)."""
    try:
        return {k: v.numpy() for k, v in load_state_dict(path, "VGGish PCA").items()}
    except WeightsError as first:
        core = np._core if hasattr(np, "_core") else np.core  # numpy 2 / numpy 1
        reconstruct = core.multiarray._reconstruct
        allowed = [
            reconstruct,
            (reconstruct, "numpy.core.multiarray._reconstruct"),
            np.ndarray,
            np.dtype,
            *{type(np.dtype(t)) for t in ("f4", "f8")},
        ]
        try:
            with torch.serialization.safe_globals(allowed):
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:
            raise first from None
        if not isinstance(state, dict):
            raise first from None
        return {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in state.items()}


def postprocess(
    embeddings: np.ndarray, pca: tuple[np.ndarray, np.ndarray], *, quantize: bool = True
) -> np.ndarray:
    """The AudioSet post-processing of (N, D) embeddings → (N, D) float32.

    ``eigen_vectors @ (e - means)``; with ``quantize``, clipped to [-2, 2] and mapped to the
    integers 0 … 255 as the TensorFlow release does (``uint8((x + 2) · 255 / 4)``, i.e. floor;
    the PyTorch port rounds instead: at most 1 apart), kept as float32.
    """
    vectors, means = pca
    out = (np.asarray(embeddings, np.float64) - means) @ vectors.T
    if quantize:
        lo, hi = QUANTIZE_RANGE
        out = np.floor((np.clip(out, lo, hi) - lo) * (255.0 / (hi - lo)))
    return out.astype(np.float32)


class VGGishAudio:
    """The ``vggish`` slot: a video file → (T_a, ``dim``) float32 audio rows.

    Row ``t`` is the embedding of the 0.96 s of audio starting at ``t / fps`` s (see
    :mod:`instructvid.video.audio` for which rows exist); a file without an audio stream gives
    (0, ``dim``). A missing or wrong weights / PCA file is a :class:`WeightsError` naming it.
    After :meth:`video_rows`, ``warning`` says why the audio was incomplete (or is ``None``).
    """

    name = "vggish"
    dim = 128

    def __init__(
        self,
        weights: PathLike,
        *,
        pca: PathLike | None = None,
        device: str = "auto",
        batch: int = 64,
        quantize: bool = True,
        final_relu: bool = True,
    ) -> None:
        from instructvid.runtime import resolve_device

        if weights is None:
            raise WeightsError(
                "vggish needs VGGish weights (vggish-10086976.pth of the torchvggish release): "
                "give them with --weights"
            )
        self.weights = Path(weights)
        state = load_state_dict(self.weights, self.name)
        model = VGGish.for_state_dict(state, final_relu=final_relu)
        fit_state_dict(model, state, self.weights, self.name)
        self.dim = model.dim
        self.pca_path = Path(pca) if pca is not None else None
        self.pca = load_pca(self.pca_path, self.dim) if self.pca_path is not None else None
        self.quantize = quantize
        self.device = resolve_device(device)
        self.model = model.eval().to(self.device)
        self.batch = max(1, int(batch))
        self.warning: str | None = None

    def embed(self, examples: np.ndarray) -> np.ndarray:
        """(N, 96, 64) log-mel examples → (N, ``dim``) float32 (post-processed with ``pca``)."""
        from instructvid.runtime import limit_torch_threads, thread_budget

        arr = np.asarray(examples, np.float32)
        if arr.ndim != 3 or arr.shape[1:] != (EXAMPLE_FRAMES, MEL_BANDS):
            raise ValueError(f"expected log-mel examples (N, 96, 64), got {arr.shape}")
        out = []
        with torch.inference_mode(), limit_torch_threads(thread_budget()):
            for i in range(0, len(arr), self.batch):
                x = torch.from_numpy(arr[i : i + self.batch]).to(self.device)[:, None]
                out.append(self.model(x).float().cpu().numpy())
        rows = np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)
        if self.pca is not None:
            rows = postprocess(rows, self.pca, quantize=self.quantize)
        return rows.astype(np.float32)

    def video_rows(self, source: PathLike, fps: float = 1.0) -> np.ndarray:
        """(T_a, ``dim``) float32: row ``t`` = the audio of ``t / fps`` … ``t / fps + 0.96`` s."""
        stream = AudioStream(source)
        rows, pending = [], []
        for example in stream_examples(stream, fps):
            pending.append(example)
            if len(pending) == self.batch:
                rows.append(self.embed(np.stack(pending)))
                pending = []
        if pending:
            rows.append(self.embed(np.stack(pending)))
        self.warning = stream.warning
        if stream.warning:
            warnings.warn(stream.warning, stacklevel=2)
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)
