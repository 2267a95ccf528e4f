"""Which videos ``actionness train`` and ``sweep`` train on, and which are evaluation videos.

:func:`training_selection` chooses the training videos (with their feature files) and the
evaluation videos that must never be trained on, from a CrossTask split, a COIN-layout subset,
an explicit list or a feature folder; :func:`read_id_list` reads a list of video ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from instructvid.actionness.eval.sets import coin_eval_set, crosstask_eval_set
from instructvid.io.ids import check_id, safe_join
from instructvid.types import PathLike

__all__ = ["TrainingSelection", "read_id_list", "training_selection"]


@dataclass
class TrainingSelection:
    """Training videos with their feature files, the evaluation list and categories."""

    features: dict[str, Path]
    eval_ids: set[str]
    eval_source: str
    categories: dict[str, str]
    n_without_features: int = 0


def read_id_list(path: PathLike) -> list[str]:
    """Video ids, one per line (blank lines and ``#`` comments ignored; ``task,video`` lines
    give the video). An invalid id (:func:`instructvid.io.ids.check_id`) is a FormatError
    naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: video list not found (expected one video id per line)")
    ids = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if line:
            vid = line.split(",")[-1].strip() if "," in line else line
            ids.append(check_id(vid, path=path, line=number, what="video id"))
    return ids


def training_selection(
    features_dir: PathLike,
    *,
    annotations: PathLike | None = None,
    crosstask: PathLike | None = None,
    train_subset: str = "training",
    eval_subset: str = "testing",
    videos: PathLike | None = None,
    exclude: PathLike | None = None,
    category_key: str = "class",
    seed: int = 0,
) -> TrainingSelection:
    """Which videos to train on, and which are evaluation videos (never trained on).

    * ``crosstask``: the training part of the seeded random split; its test part is excluded;
    * ``annotations`` (COIN layout): ``train_subset`` videos; ``eval_subset`` is excluded;
    * ``videos``: an explicit list of training ids (overrides the two above);
    * otherwise every ``<vid>.npy`` of ``features_dir``;
    * ``exclude``: more evaluation ids (one per line).

    Training videos without a feature file are skipped (counted); the overlap check itself is
    done by :func:`instructvid.actionness.train.train_actionness`.
    """
    folder = Path(features_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: feature folder not found (expected <vid>.npy files)")
    categories: dict[str, str] = {}
    eval_ids: set[str] = set()
    source = "the evaluation list"
    train_ids: list[str]
    if crosstask is not None:
        es = crosstask_eval_set(crosstask, seed=seed, features=folder)
        train_ids = list(es.train)
        eval_ids |= set(es.videos)
        categories = {k: v.category for k, v in es.train.items()}
        source = f"the CrossTask test split (seed {seed})"
    elif annotations is not None:
        es = coin_eval_set(
            annotations, subset=eval_subset, train_subset=train_subset, category_key=category_key
        )
        train_ids = list(es.train)
        eval_ids |= set(es.videos)
        categories = {k: v.category for k, v in es.train.items()}
        source = f"the {eval_subset!r} subset of {Path(annotations).name}"
    else:
        train_ids = sorted(p.stem for p in folder.glob("*.npy"))
    if videos is not None:
        train_ids = read_id_list(videos)
    if exclude is not None:
        eval_ids |= set(read_id_list(exclude))
        source = f"{source} / {Path(exclude).name}"
    paths = {v: safe_join(folder, f"{v}.npy") for v in train_ids}
    feats = {v: p for v, p in paths.items() if p.is_file()}
    missing = len(train_ids) - len(feats)
    if videos is not None and missing:
        first = next(v for v in train_ids if v not in feats)
        raise FileNotFoundError(
            f"{folder / (first + '.npy')}: feature file of training video {first!r} not found"
        )
    if not feats:
        raise FileNotFoundError(f"{folder}: no feature file for any training video")
    return TrainingSelection(feats, eval_ids, source, categories, missing)
