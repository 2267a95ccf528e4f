"""Video decoding (PyAV) and frame sampling; feature extractors live with their capability
(``instructvid.scene.features``)."""
