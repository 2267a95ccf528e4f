"""3D reconstruction of narrated videos (thesis ch. 5, §5.3): per-video SfM (``reconstruct``),
frame retrieval (``retrieval``), 2D matching with a flow filter (``matching``), RANSAC-Umeyama
similarities (``similarity``), the alignment graph (``graph``, ``align``), keypoint transfer and its
PCK evaluation (``keypoints``, ``evaluate``). See docs/scene.md."""
