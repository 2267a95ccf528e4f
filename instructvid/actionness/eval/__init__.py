"""Evaluation of actionness: evaluation sets, the methods compared, the orchestrator and its report."""
