"""Narration to constraints: subtitle corpus, text encoders, ordered matching, metrics and the Table A.1 evaluation."""
