"""Actionness by long-range temporal order verification (thesis ch. 4, METHOD §2).

Modules: ``model`` (S, F, G and the loss), ``sampling`` (sequences, trimming, category
resampling), ``train`` (cumulative-sum store, streaming training, checkpoints), ``proposals``
(per-second scoring, TAG + NMS), ``evaluate`` (datasets, baselines, frame AP, AR@AN, report),
``combine`` (eq. 4.4: actionness in step localization), ``sweep`` (range and clip ablations).
"""
