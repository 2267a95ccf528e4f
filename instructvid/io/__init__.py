"""File formats: one module per format, nothing else (no modelling, no metrics)."""
