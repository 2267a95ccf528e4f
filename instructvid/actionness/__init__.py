"""Actionness by long-range temporal order verification (thesis ch. 4, METHOD §2).

Modules: ``model`` (S, F, G and the loss), ``sampling`` (sequences, trimming, category
resampling), ``config`` (``TrainConfig``: the settings of a training run), ``train`` (the
training loop), ``store`` (cumulative-sum store), ``batches`` (seeded epoch batches, prefetch),
``fused`` (compiled loss + gradient engine), ``torch_engine`` (autograd engine), ``checkpoint``
(per-epoch checkpoint, resume), ``model_io`` (save / load a model), ``estimator``
(scikit-learn-like wrapper), ``proposals`` (per-second scoring, TAG + NMS), ``eval/`` (``sets``:
COIN / CrossTask evaluation videos and ``MethodResult``; ``methods``: baselines, score folders,
models, proposal files; ``evaluate``: frame AP, AR@AN; ``report``: JSON, markdown, plots),
``video_selection`` (training and evaluation lists), ``sweep`` (range and clip ablations).
Eq. 4.4 (actionness in step localization) is :mod:`instructvid.align.combine`.
"""
