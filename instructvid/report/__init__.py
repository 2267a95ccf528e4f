"""Reports: markdown/HTML tables and matplotlib plots."""
