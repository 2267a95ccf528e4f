"""Video decoding, frame sampling and feature extractors. Not implemented yet."""
