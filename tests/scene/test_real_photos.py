"""Real photographs through the folder-of-JPEG path.

No multi-session photo set of one real place ships in any package reachable offline; the closest
real multi-view data is scikit-image's Middlebury 2014 "motorcycle" stereo pair (two real
photographs of one scene from a rectified stereo rig). Rectified: the true relative rotation is
the identity and the baseline is along the image x axis — which the reconstruction must recover.
Skipped when scikit-image is not installed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pycolmap")


def test_two_real_photographs_reconstruct_as_a_rectified_stereo_pair(tmp_path):
    data = pytest.importorskip("skimage.data")
    import cv2
    import pycolmap

    from instructvid.scene.reconstruct import reconstruct
    from instructvid.scene.sfm import ReconstructConf

    left, right, _ = data.stereo_motorcycle()
    folder = tmp_path / "motorcycle"
    folder.mkdir()
    cv2.imwrite(str(folder / "left.jpg"), cv2.cvtColor(left, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "right.jpg"), cv2.cvtColor(right, cv2.COLOR_RGB2BGR))
    conf = ReconstructConf(min_model_images=2, max_features=3000, init_min_tri_angle=2.0)
    report = json.loads(reconstruct([folder], tmp_path / "rec", conf, workers=1).read_text())
    s = report["inputs"]["motorcycle"]
    assert s["registered_images"] == 2 and s["points3D"] > 300
    rec = pycolmap.Reconstruction(str(tmp_path / "rec" / "models" / "motorcycle" / "0"))
    ims = {im.name: im for im in rec.images.values()}
    rel = ims["right.jpg"].cam_from_world() * ims["left.jpg"].cam_from_world().inverse()
    R = rel.rotation.matrix()
    angle = np.degrees(np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1)))
    direction = rel.translation / np.linalg.norm(rel.translation)
    assert angle < 2.0
    assert direction[0] < -0.9  # the right camera sits to the right (+x) of the left one
    assert rec.compute_mean_reprojection_error() < 1.0
