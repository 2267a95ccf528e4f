"""The ordered-assignment dynamic programme (the only DP in the project)."""
