"""2D correspondences between two frames (thesis §5.3.3).

Three methods, the variants of the thesis's Fig. 5.6 (``confs`` below):

- ``local``: mutual nearest neighbours of local-feature descriptors (R2D2 in the thesis, SIFT here);
- ``flow``: the dense flow field alone (GLU-Net in the thesis, an OpenCV flow here): every keypoint
  of frame A is carried by the flow into frame B and matched to the nearest keypoint of B within
  ``t`` pixels;
- ``local+flow`` (the thesis's method): mutual nearest neighbours kept only when consistent with
  the flow, i.e. when the flow carries the keypoint of A within ``t`` pixels of its match in B.

The flow between frames of two *different* videos may face a large change of viewpoint, beyond
what a local optical flow follows. So the field is computed after a global pre-alignment: a
homography H (B ← A, RANSAC on the mutual-NN matches) warps B onto A, the OpenCV flow (DIS by
default, Farneback as an option) is computed between A and the warped B, and the mapping is
``T(x) = H (x + flow(x))``. Without a usable homography (too few matches) the flow is computed on
the raw pair. Pixel positions follow the COLMAP convention (top-left pixel centre at (0.5, 0.5));
OpenCV's (pixel centre at 0) is converted at the boundary.

A match set is an (M, 2) int64 array of index pairs ``(i in A, j in B)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "METHODS",
    "DenseMapping",
    "confs",
    "dense_mapping",
    "flow_consistent",
    "flow_matches",
    "match_frames",
    "mutual_nearest_neighbours",
]

METHODS = ("local", "flow", "local+flow")

#: Named presets, as in hloc: ``match_frames(..., **confs["local+flow"])``.
confs: dict[str, dict] = {
    "local": {"method": "local", "ratio": None},
    "flow": {"method": "flow", "threshold": 4.0, "flow": "dis"},
    "local+flow": {"method": "local+flow", "threshold": 4.0, "flow": "dis", "ratio": None},
}


def mutual_nearest_neighbours(
    desc_a: np.ndarray,
    desc_b: np.ndarray,
    *,
    ratio: float | None = None,
    max_distance: float | None = None,
    block: int = 4096,
) -> np.ndarray:
    """Mutual nearest neighbours between L2-normalised descriptors.

    Args:
        desc_a: (Na, D) float32, rows of unit norm.
        desc_b: (Nb, D) float32, rows of unit norm.
        ratio: if given, also require Lowe's ratio (distance to the nearest / to the second
            nearest in B) below ``ratio``.
        max_distance: if given, drop pairs farther apart (Euclidean, in [0, 2]).

    Returns:
        (M, 2) int64 index pairs ``(i, j)``, sorted by ``i``.
    """
    a = np.ascontiguousarray(desc_a, np.float32)
    b = np.ascontiguousarray(desc_b, np.float32)
    if a.ndim != 2 or b.ndim != 2 or (len(a) and len(b) and a.shape[1] != b.shape[1]):
        raise ValueError(f"descriptors must be (Na, D) and (Nb, D), got {a.shape} and {b.shape}")
    if len(a) == 0 or len(b) == 0:
        return np.zeros((0, 2), np.int64)
    nn_ab = np.empty(len(a), np.int64)
    best_ab = np.empty(len(a), np.float32)
    second_ab = np.full(len(a), -1.0, np.float32)
    best_ba = np.full(len(b), -3.0, np.float32)
    nn_ba = np.zeros(len(b), np.int64)
    for s in range(0, len(a), block):
        sim = a[s : s + block] @ b.T  # (n, Nb) cosine similarity
        rows = np.arange(len(sim))
        idx = np.argmax(sim, axis=1)
        nn_ab[s : s + block] = idx
        best_ab[s : s + block] = sim[rows, idx]
        col = np.argmax(sim, axis=0)
        val = sim[col, np.arange(sim.shape[1])]
        better = val > best_ba
        best_ba[better] = val[better]
        nn_ba[better] = col[better] + s
        if ratio is not None and sim.shape[1] > 1:
            sim[rows, idx] = -3.0
            second_ab[s : s + block] = sim.max(axis=1)
    i = np.arange(len(a))
    keep = nn_ba[nn_ab] == i
    d1 = np.sqrt(np.maximum(2 - 2 * best_ab, 0))
    if max_distance is not None:
        keep &= d1 <= max_distance
    if ratio is not None:
        d2 = np.sqrt(np.maximum(2 - 2 * second_ab, 0))
        keep &= d1 < ratio * np.maximum(d2, 1e-12)
    return np.stack([i[keep], nn_ab[keep]], axis=1).astype(np.int64)


@dataclass(frozen=True)
class DenseMapping:
    """A dense 2D-2D mapping T from frame A to frame B.

    ``field`` (Ha, Wa, 2) float32: for the pixel of A at row r, column c (centre (c + 0.5, r + 0.5)
    in the COLMAP convention), the position in B it maps to, COLMAP convention. ``homography``:
    the pre-alignment (3, 3), B ← A, or ``None``.
    """

    field: np.ndarray
    homography: np.ndarray | None

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) positions of A (COLMAP convention) to B, bilinearly; (N, 2) float64."""
        import cv2

        pts = np.asarray(points, np.float32).reshape(-1, 2) - 0.5
        out = cv2.remap(
            self.field,
            pts[:, 0][None],
            pts[:, 1][None],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(np.nan, np.nan),
        )
        return out.reshape(-1, 2).astype(np.float64)


def _flow(gray_a: np.ndarray, gray_b: np.ndarray, method: str) -> np.ndarray:
    import cv2

    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return dis.calc(gray_a, gray_b, None)
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(gray_a, gray_b, None, 0.5, 5, 21, 5, 7, 1.5, 0)
    raise ValueError(f"unknown flow {method!r}; use 'dis' or 'farneback'")


def dense_mapping(
    gray_a: np.ndarray,
    gray_b: np.ndarray,
    *,
    kp_a: np.ndarray | None = None,
    kp_b: np.ndarray | None = None,
    matches: np.ndarray | None = None,
    flow: str = "dis",
    prealign: bool = True,
    min_homography_inliers: int = 12,
) -> DenseMapping:
    """The dense mapping A → B: optional homography pre-alignment, then an OpenCV flow.

    Args:
        gray_a: (Ha, Wa) uint8 frame A.
        gray_b: (Hb, Wb) uint8 frame B.
        kp_a, kp_b, matches: keypoints (N, 2) of A and B and their matches (M, 2), used to fit
            the pre-aligning homography (RANSAC, 8 px); skipped when missing or too few inliers.
        flow: ``"dis"`` or ``"farneback"``.
    """
    import cv2

    ga, gb = np.ascontiguousarray(gray_a, np.uint8), np.ascontiguousarray(gray_b, np.uint8)
    if ga.ndim != 2 or gb.ndim != 2:
        raise ValueError("dense_mapping expects grey (H, W) uint8 images")
    ha, wa = ga.shape
    hom = None
    if (
        prealign
        and kp_a is not None
        and kp_b is not None
        and matches is not None
        and len(matches) >= 8
    ):
        src = (kp_a[matches[:, 0]] - 0.5).astype(np.float32)
        dst = (kp_b[matches[:, 1]] - 0.5).astype(np.float32)
        h, mask = cv2.findHomography(src, dst, cv2.RANSAC, 8.0, maxIters=2000, confidence=0.999)
        if h is not None and mask is not None and int(mask.sum()) >= min_homography_inliers:
            if np.isfinite(h).all() and abs(np.linalg.det(h[:2, :2])) > 1e-3:
                hom = h
    if hom is not None:
        warped = cv2.warpPerspective(
            gb, hom, (wa, ha), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        )
    else:
        warped = (
            cv2.resize(gb, (wa, ha), interpolation=cv2.INTER_AREA) if gb.shape != ga.shape else gb
        )
    f = _flow(ga, warped, flow)
    ys, xs = np.mgrid[0:ha, 0:wa].astype(np.float32)
    x1, y1 = xs + f[..., 0], ys + f[..., 1]  # position in (warped) B, OpenCV convention
    if hom is not None:
        p = np.stack([x1, y1, np.ones_like(x1)], axis=-1) @ hom.T.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):  # points mapped to infinity → NaN
            w_ = np.where(np.abs(p[..., 2]) > 1e-9, p[..., 2], np.nan)
            x1, y1 = p[..., 0] / w_, p[..., 1] / w_
    elif gb.shape != ga.shape:
        x1, y1 = x1 * gb.shape[1] / wa, y1 * gb.shape[0] / ha
    field = np.stack([x1 + 0.5, y1 + 0.5], axis=-1).astype(np.float32)
    return DenseMapping(field, hom)


def flow_consistent(
    kp_a: np.ndarray,
    kp_b: np.ndarray,
    matches: np.ndarray,
    mapping: DenseMapping,
    threshold: float,
) -> np.ndarray:
    """(M,) bool: matches whose keypoint in A the mapping carries within ``threshold`` px of B's."""
    if len(matches) == 0:
        return np.zeros(0, bool)
    mapped = mapping(kp_a[matches[:, 0]])
    err = np.linalg.norm(mapped - kp_b[matches[:, 1]], axis=1)
    return np.nan_to_num(err, nan=np.inf) <= threshold


def flow_matches(
    kp_a: np.ndarray,
    kp_b: np.ndarray,
    mapping: DenseMapping,
    threshold: float,
    candidates_a: np.ndarray | None = None,
) -> np.ndarray:
    """Matches from the flow alone: each keypoint of A (or of ``candidates_a``) to the nearest
    keypoint of B within ``threshold`` px of its mapped position; one-to-one (closest wins)."""
    from scipy.spatial import cKDTree

    idx_a = np.arange(len(kp_a)) if candidates_a is None else np.asarray(candidates_a, np.int64)
    if len(idx_a) == 0 or len(kp_b) == 0:
        return np.zeros((0, 2), np.int64)
    mapped = mapping(kp_a[idx_a])
    ok = np.isfinite(mapped).all(axis=1)
    idx_a, mapped = idx_a[ok], mapped[ok]
    if len(idx_a) == 0:
        return np.zeros((0, 2), np.int64)
    dist, j = cKDTree(kp_b).query(mapped, distance_upper_bound=threshold)
    ok = np.isfinite(dist)
    pairs = np.stack([idx_a[ok], j[ok]], axis=1)
    dist = dist[ok]
    order = np.argsort(dist, kind="stable")
    _, first = np.unique(pairs[order, 1], return_index=True)
    return pairs[order[np.sort(first)]].astype(np.int64)


def match_frames(
    kp_a: np.ndarray,
    desc_a: np.ndarray,
    kp_b: np.ndarray,
    desc_b: np.ndarray,
    *,
    gray_a: np.ndarray | None = None,
    gray_b: np.ndarray | None = None,
    method: str = "local+flow",
    threshold: float = 4.0,
    flow: str = "dis",
    ratio: float | None = None,
    candidates_a: np.ndarray | None = None,
) -> np.ndarray:
    """2D-2D matches between frames A and B with one of :data:`METHODS`; (M, 2) int64.

    Args:
        kp_a, kp_b: (Na, 2), (Nb, 2) keypoints (COLMAP pixel convention).
        desc_a, desc_b: (Na, D), (Nb, D) unit-norm descriptors.
        gray_a, gray_b: the frames, (H, W) uint8; needed by the flow methods.
        threshold: t, the flow-consistency tolerance in pixels of B.
        candidates_a: for ``flow``, the keypoints of A to carry (default all).
    """
    if method not in METHODS:
        raise ValueError(f"unknown matching method {method!r}; choose one of {METHODS}")
    nn = mutual_nearest_neighbours(desc_a, desc_b, ratio=ratio)
    if method == "local":
        return nn
    if gray_a is None or gray_b is None:
        raise ValueError(f"matching method {method!r} needs the two frames")
    mapping = dense_mapping(gray_a, gray_b, kp_a=kp_a, kp_b=kp_b, matches=nn, flow=flow)
    if method == "flow":
        return flow_matches(kp_a, kp_b, mapping, threshold, candidates_a)
    return nn[flow_consistent(kp_a, kp_b, nn, mapping, threshold)]
