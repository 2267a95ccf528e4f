"""Actionness by long-range temporal order verification (thesis ch. 4). Not implemented yet."""
