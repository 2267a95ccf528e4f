"""Synthetic worlds written in the real file formats (offline tests and the demo)."""
