"""``instructvid steps``: one module per command family."""
