"""``instructvid actionness``: one module per command family."""
