"""The ``hands`` cue: hand presence score and image position per second (thesis Table 4.1's
"hand detector" baseline; the grounding's hand points).

The detector is MediaPipe's palm detector (``palm_detection_full.tflite`` or
``palm_detection_lite.tflite``: 192 × 192 RGB in [0, 1], 2016 SSD anchors, 18 regressed values
and one logit per anchor), given as a file (``--weights``) and run by a TensorFlow Lite runtime
(``ai-edge-litert``, the ``hands`` extra; ``tflite-runtime`` also works). Neither ships with
instructvid and nothing is downloaded: the model files are inside the ``mediapipe==0.10.14``
wheel (``mediapipe/modules/palm_detection/``), which can be fetched and unpacked without
installing it (its dependencies clash with ours)::

    pip download mediapipe==0.10.14 --no-deps -d wheels
    unzip -j wheels/mediapipe-0.10.14-*.whl 'mediapipe/modules/palm_detection/*.tflite' -d models

Per row (one frame per second at ``fps`` 1): the frame is letterboxed into 192 × 192 (aspect
kept, zero borders centred), the detector run, and the row is ``(score, x, y)``: the highest
palm probability (sigmoid of the logit) and the centre of that palm's box in [0, 1] image
coordinates of the original frame (x right, y down). With no palm above 0.5 the position is
still that of the best candidate; the score says how much to trust it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructvid.types import PathLike
from instructvid.video.cues import CueResult
from instructvid.video.stream import RateDecoder

__all__ = ["HandsCue", "decode_best", "letterbox", "palm_anchors"]

INPUT = 192


def palm_anchors() -> np.ndarray:
    """(2016, 2) anchor centres (x, y) in [0, 1] of MediaPipe's palm detector: a 24 × 24 grid
    (stride 8) with 2 anchors per cell, then a 12 × 12 grid (stride 16) with 6, row-major."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = INPUT // stride
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres)


def letterbox(image: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """``(tensor (192, 192, 3) float32 in [0, 1], scale, x0, y0)``: ``image`` (H, W, 3) uint8
    resized by ``scale`` (aspect kept) and pasted at ``(x0, y0)`` pixels on black."""
    import cv2

    h, w = image.shape[:2]
    scale = INPUT / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((INPUT, INPUT, 3), np.float32)
    x0, y0 = (INPUT - nw) // 2, (INPUT - nh) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small.astype(np.float32) / 255.0
    return out, scale, float(x0), float(y0)


def decode_best(
    regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray
) -> tuple[float, float, float]:
    """``(score, x, y)`` of the best anchor in letterbox coordinates [0, 1].

    Args:
        regressors: (2016, 18) raw box values (x, y offsets and w, h in input pixels, then 7
            key points).
        logits: (2016,) or (2016, 1) raw scores.
        anchors: (2016, 2) anchor centres, :func:`palm_anchors`.
    """
    z = np.clip(np.asarray(logits, np.float64).reshape(-1), -100.0, 100.0)
    best = int(np.argmax(z))
    score = float(1.0 / (1.0 + np.exp(-z[best])))
    x = float(anchors[best, 0] + regressors[best, 0] / INPUT)
    y = float(anchors[best, 1] + regressors[best, 1] / INPUT)
    return score, x, y


def _interpreter(path: Path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise ValueError(
                "the 'hands' cue needs a TensorFlow Lite runtime: pip install 'instructvid[hands]' "
                "(ai-edge-litert) or tflite-runtime"
            ) from None
    try:
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
    except Exception as exc:
        raise ValueError(f"{path}: not a TensorFlow Lite model ({exc})") from None
    (inp,) = interpreter.get_input_details()
    outs = interpreter.get_output_details()
    shapes = sorted(tuple(o["shape"]) for o in outs)
    if tuple(inp["shape"]) != (1, INPUT, INPUT, 3) or shapes != [(1, 2016, 1), (1, 2016, 18)]:
        raise ValueError(
            f"{path}: not MediaPipe's palm detector (input {tuple(inp['shape'])}, outputs "
            f"{shapes}; expected (1, 192, 192, 3) → (1, 2016, 18) and (1, 2016, 1))"
        )
    return interpreter


@dataclass
class HandsCue:
    """Per-second (score, x, y) of the most confident palm (see the module docstring)."""

    weights: Path | None
    name: str = "hands"
    dim: int = 3

    def __post_init__(self) -> None:
        if self.weights is None:
            raise ValueError(
                "the 'hands' cue needs MediaPipe's palm detector model: give it with --weights "
                "palm_detection_full.tflite (inside the mediapipe==0.10.14 wheel: pip download "
                "mediapipe==0.10.14 --no-deps, then unzip mediapipe/modules/palm_detection/); "
                "see docs/video.md"
            )
        self.weights = Path(self.weights)
        if not self.weights.is_file():
            raise ValueError(f"{self.weights}: palm detector model file not found")
        self._interpreter = _interpreter(self.weights)
        self._anchors = palm_anchors()

    def __getstate__(self) -> dict:  # the interpreter is rebuilt in each worker process
        return {"weights": self.weights, "name": self.name, "dim": self.dim}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def detect(self, image: np.ndarray) -> tuple[float, float, float]:
        """``(score, x, y)`` for one RGB (H, W, 3) uint8 image; x, y in [0, 1] of the image."""
        h, w = image.shape[:2]
        tensor, scale, x0, y0 = letterbox(image)
        it = self._interpreter
        it.set_tensor(it.get_input_details()[0]["index"], tensor[None])
        it.invoke()
        out = {tuple(o["shape"])[-1]: it.get_tensor(o["index"])[0] for o in it.get_output_details()}
        score, lx, ly = decode_best(out[18], out[1], self._anchors)
        x = (lx * INPUT - x0) / scale / w
        y = (ly * INPUT - y0) / scale / h
        return score, float(np.clip(x, 0.0, 1.0)), float(np.clip(y, 0.0, 1.0))

    def __call__(self, path: PathLike, fps: float = 1.0) -> CueResult:
        decoder = RateDecoder(path, rate=fps, size=lambda w, h: (w, h) if max(w, h) <= 640 else
                              (round(w * 640 / max(w, h)), round(h * 640 / max(w, h))))  # fmt: skip
        rows = [self.detect(image) for _, _, image in decoder]
        values = np.asarray(rows, np.float32).reshape(-1, 3)
        return CueResult(values, decoder.duration, decoder.truncated, decoder.warning)
