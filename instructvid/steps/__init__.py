"""Cross-task weakly supervised step localization (thesis ch. 3, METHOD §1)."""
