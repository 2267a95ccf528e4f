"""``instructvid steps constraints | constraints-eval | train-text``: narration → temporal constraints.

Wire into the ``steps`` app with :func:`register` (``register(steps_app)``).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from instructvid.cli.steps.options import RELEASE_OPT, open_dataset
from instructvid.cli.stop import fail, stop_cleanly
from instructvid.progress import console, progress_bar

__all__ = ["constraints", "constraints_eval", "register", "train_text"]

DATA_ARG = typer.Argument(
    ..., metavar="DATA", help="DATA folder holding crosstask_release/ (read only)."
)
SUBTITLES_OPT = typer.Option(
    ...,
    "--subtitles",
    help="Folder of <vid>.vtt / .srt / .json subtitle files, or one HowTo100M caption JSON.",
)
FEATURES_OPT = typer.Option(
    None, "--features", help="Override DATA/crosstask_features (read for video lengths)."
)
WINDOW_OPT = typer.Option(10, "--window", min=1, help="Words per sliding window.")
STRIDE_OPT = typer.Option(
    None, "--stride", min=1, help="Words between window centres [default: 4 for minilm, else 1]."
)
LENGTH_OPT = typer.Option(9.0, "--length", min=0.001, help="Interval length in seconds.")
SHIFT_OPT = typer.Option(0.0, "--shift", help="Seconds added to each interval's centre.")
TEXT_MODEL_OPT = typer.Option(
    None, "--text-model", help="Model folder from `steps train-text` (for --text learned)."
)
JOBS_OPT = typer.Option(1, "--jobs", min=1, help="Worker processes (per video).")
SEED_OPT = typer.Option(0, "--seed", help="Seed of the fitted word vectors and random baseline.")


def _pct(value: float | None) -> str:
    return "–" if value is None or value != value else f"{100 * value:.1f}"


def constraints(
    data: Path = DATA_ARG,
    subtitles: Path = SUBTITLES_OPT,
    out: Path = typer.Option(..., "--out", help="Output folder (CSVs, caches, config.json)."),
    text: str = typer.Option("tfidf", "--text", help="tfidf, wordvec, minilm or learned."),
    window: int = WINDOW_OPT,
    stride: int | None = STRIDE_OPT,
    length: float = LENGTH_OPT,
    shift: float = SHIFT_OPT,
    threshold: float | None = typer.Option(
        None, "--threshold", help="Similarity threshold [default: chosen on videos_val.csv]."
    ),
    text_model: Path | None = TEXT_MODEL_OPT,
    jobs: int = JOBS_OPT,
    seed: int = SEED_OPT,
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
) -> None:
    """Narration constraints: match step texts to subtitles in order, write <task>_<vid>.csv
    intervals under OUT (use them with `steps train DATA --constraints OUT`). Resumable."""
    from instructvid.parallel import ItemError
    from instructvid.steps.narration.constraints import build_constraints
    from instructvid.text.embed import ENCODERS

    if text not in ENCODERS:
        raise fail(ValueError(f"unknown --text {text!r}; expected one of {', '.join(ENCODERS)}"))
    dataset = open_dataset(data, release, features, None)
    try:
        with (
            stop_cleanly(f"(matched videos are saved in {out}/matches)"),
            progress_bar(f"constraints ({text})") as update,
        ):
            run = build_constraints(
                dataset,
                subtitles,
                out,
                text=text,
                window=window,
                stride=stride,
                length=length,
                shift=shift,
                threshold=threshold,
                text_model=text_model,
                jobs=jobs,
                random_state=seed,
                progress=update,
            )
    except (FileNotFoundError, ItemError) as exc:
        raise fail(exc) from None
    how = "chosen on the validation videos" if run.validation else "given"
    if run.validation is None and threshold is None:
        how = "none (no annotated validation video)"
    console.print(f"threshold {run.threshold:.4f} ({how})")
    if run.validation:
        v = run.validation
        console.print(
            f"validation: precision {_pct(v['precision'])} %, recall {_pct(v['recall'])} %, "
            f"F1 {_pct(v['f1'])} % on {v['n_videos']} videos"
        )
    status = ", ".join(f"{n} {s}" for s, n in sorted(run.status.items()))
    console.print(f"{run.written} constraint files in {run.out} (videos: {status})")


def constraints_eval(
    data: Path = DATA_ARG,
    subtitles: Path = SUBTITLES_OPT,
    out: Path = typer.Option(..., "--out", help="Output folder (one sub-folder per --text)."),
    text: str | None = typer.Option(
        None,
        "--text",
        help="Comma-separated representations [default: tfidf,wordvec,minilm (+learned with "
        "--text-model)].",
    ),
    window: int = WINDOW_OPT,
    stride: int | None = STRIDE_OPT,
    length: float = LENGTH_OPT,
    shift: float = SHIFT_OPT,
    text_model: Path | None = TEXT_MODEL_OPT,
    jobs: int = JOBS_OPT,
    draws: int = typer.Option(10, "--draws", min=1, help="Draws of the random baseline."),
    seed: int = SEED_OPT,
    release: Path | None = RELEASE_OPT,
    features: Path | None = FEATURES_OPT,
) -> None:
    """Precision / recall / F1, IoU and % outside of each representation's constraints on the
    annotated test videos (Table A.1), beside a random baseline; writes JSON and markdown."""
    from instructvid.parallel import ItemError
    from instructvid.steps.narration.evaluation import run_constraints_eval
    from instructvid.steps.narration.metrics import METRICS
    from instructvid.text.embed import ENCODERS

    if text is None:
        texts = ["tfidf", "wordvec", "minilm"] + (["learned"] if text_model else [])
    else:
        texts = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in texts if t not in ENCODERS]
    if unknown or not texts:
        raise fail(ValueError(f"unknown --text {unknown}; expected some of {', '.join(ENCODERS)}"))
    if "learned" in texts and text_model is None:
        raise fail(ValueError("--text learned needs --text-model MODEL (see `steps train-text`)"))
    dataset = open_dataset(data, release, features, None)
    try:
        with stop_cleanly("constraints-eval"):
            result = run_constraints_eval(
                dataset,
                subtitles,
                out,
                texts,
                window=window,
                stride=stride,
                length=length,
                shift=shift,
                text_model=text_model,
                jobs=jobs,
                random_draws=draws,
                random_state=seed,
                progress=lambda name: progress_bar(f"constraints ({name})"),
            )
    except (FileNotFoundError, ItemError) as exc:
        raise fail(exc) from None
    table = Table(
        title=f"Constraint quality, {result['n_videos']} test videos (%, mean over tasks)"
    )
    table.add_column("method", no_wrap=True)
    heads = ["P", "R", "F1", "frame P", "frame R", "IoU", "outside"]
    for head in heads:
        table.add_column(head, justify="right")
    for row in result["table"]:
        dim = row["method"].startswith("random") or row["method"] == "released"
        table.add_row(row["method"], *(_pct(row[m]) for m in METRICS), style="dim" if dim else None)
    console.print(table, soft_wrap=False)
    console.print(
        "thesis (Table A.1, CrossTask): P/R word vectors 11.6/10.4, TF-IDF 13.3/11.4, "
        "learned 15.9/13.9; released constraints IoU 7.9, outside 61"
    )
    console.print(f"written: {out / 'constraints_eval.json'}, {out / 'constraints_eval.md'}")


def train_text(
    paragraphs: Path | None = typer.Argument(
        None, help="Paragraph file: one paragraph per line, articles separated by a blank line."
    ),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    from_tasks: Path | None = typer.Option(
        None,
        "--from-tasks",
        help="Instead of PARAGRAPHS: generate a stand-in from the task cards of this DATA "
        "folder (written to OUT/paragraphs.txt).",
    ),
    corpus: Path | None = typer.Option(
        None, "--corpus", help="Also train the word vectors on this subtitle folder."
    ),
    dim: int = typer.Option(300, "--dim", min=1, help="Filters d of the aggregation."),
    word_dim: int = typer.Option(100, "--word-dim", min=1, help="Word-vector size."),
    margin: float = typer.Option(0.1, "--margin", help="Triplet margin h."),
    epochs: int = typer.Option(20, "--epochs", min=1, help="Training epochs."),
    lr: float = typer.Option(1e-3, "--lr", help="Adam learning rate."),
    seed: int = SEED_OPT,
) -> None:
    """Train the learned aggregation of word vectors (thesis A.1.1) on paragraphs of text."""
    from instructvid.io.atomic import atomic_write_text
    from instructvid.steps.narration.corpus import corpus_sentences, read_all_words
    from instructvid.steps.narration.wikihow import task_paragraphs
    from instructvid.text.learned import train_aggregation
    from instructvid.text.paragraphs import read_paragraphs
    from instructvid.text.wordvec import WordVectorEncoder

    if (paragraphs is None) == (from_tasks is None):
        raise fail(ValueError("give either PARAGRAPHS or --from-tasks DATA"))
    try:
        with stop_cleanly("train-text"):
            if from_tasks is not None:
                dataset = open_dataset(from_tasks, None, None, None)
                paragraphs = out / "paragraphs.txt"
                atomic_write_text(
                    paragraphs, task_paragraphs(dataset.tasks.values(), random_state=seed)
                )
            assert paragraphs is not None
            articles = read_paragraphs(paragraphs)
            sentences = [s for a in articles for p in a for s in p]
            if corpus is not None:
                sentences += corpus_sentences(read_all_words(corpus))
            console.print(f"{len(articles)} articles; word vectors on {len(sentences)} sentences")
            vectors = WordVectorEncoder(dim=word_dim, random_state=seed).fit(sentences)
            with progress_bar("train-text") as update:
                model = train_aggregation(
                    articles,
                    vectors,
                    dim=dim,
                    margin=margin,
                    epochs=epochs,
                    lr=lr,
                    random_state=seed,
                    progress=update,
                )
            model.save(out)
    except FileNotFoundError as exc:
        raise fail(exc) from None
    loss = model.history_.loss
    console.print(
        f"triplet loss per sentence {loss[0]:.4f} → {loss[-1]:.4f} "
        f"({len(loss) - 1} epochs, {model.history_.seconds:.1f} s); model in {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``constraints``, ``constraints-eval`` and ``train-text`` to ``app``."""
    app.command("constraints")(constraints)
    app.command("constraints-eval")(constraints_eval)
    app.command("train-text")(train_text)
