"""Throughput of the grounding model (eq. 5.2) with the packaged MiniLM on this machine.

Fine-tuning: pairs per second of a full training step (encoder forward + backward + AdamW on
encoder and head) at batch 64, every text 18 tokens. Frozen (``--freeze-encoder``): the encoder
embeds every text once (no gradient), then each epoch trains the head only; its cost for a whole
training of E epochs is compared with fine-tuning for the same E epochs (the ratio is what a
user waits less). Both timed in the same run; best of ``--repeats``.

    python benchmarks/bench_grounding.py [--pairs 640] [--epochs 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from instructvid.runtime import limit_torch_threads
from instructvid.scene.ground_model import GroundingModel, TrainConf

WORDS = "remove the dipstick and check the oil level then push it back in all the way".split()


def _batch(model: GroundingModel, n: int, tokens: int) -> dict:
    texts = [" ".join(WORDS[(i % 5) :] + WORDS[: (i % 5)]) for i in range(n)]
    return model.encoder.tokenizer(
        texts, padding="max_length", truncation=True, max_length=tokens, return_tensors="pt"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=640)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=18)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1, help="Untimed epochs first.")
    args = ap.parse_args()
    with limit_torch_threads(args.threads):
        model = GroundingModel(TrainConf(), {"scene": 500})
        batch = _batch(model, args.batch, args.tokens)
        assert batch["input_ids"].shape == (args.batch, args.tokens)
        labels = torch.randint(0, 500, (args.batch,), generator=torch.Generator().manual_seed(0))
        head = model.heads["scene"]
        opt = torch.optim.AdamW(
            [
                {"params": head.parameters(), "lr": 1e-2},
                {"params": model.encoder.parameters(), "lr": 5e-5},
            ]
        )
        steps = args.pairs // args.batch
        model.encoder.train()

        def tune_epoch() -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(steps):
                loss = torch.nn.functional.cross_entropy(head(model.encoder(batch)), labels)
                opt.zero_grad()
                loss.backward()
                opt.step()
            return time.perf_counter() - t0, time.process_time() - c0

        for _ in range(args.warmup):
            tune_epoch()
        tune, tune_cpu = min(tune_epoch() for _ in range(args.repeats))
        tuned_pps = steps * args.batch / tune

        model.encoder.eval()
        head_opt = torch.optim.AdamW(head.parameters(), lr=1e-2)

        def frozen_training() -> tuple[float, float]:
            t0 = time.perf_counter()
            with torch.no_grad():
                cached = torch.cat([model.encoder(batch) for _ in range(steps)])
            t1 = time.perf_counter()
            for _ in range(args.epochs):
                for b in range(steps):
                    loss = torch.nn.functional.cross_entropy(
                        head(cached[b * args.batch : (b + 1) * args.batch]), labels
                    )
                    head_opt.zero_grad()
                    loss.backward()
                    head_opt.step()
            return t1 - t0, time.perf_counter() - t1

        frozen_training()
        embed, heads = min(frozen_training() for _ in range(args.repeats))
    n = steps * args.batch
    tuned_total = tune * args.epochs
    print(
        f"pairs {n}, batch {args.batch}, {args.tokens} tokens, {args.threads} threads, {args.epochs} epochs"
    )
    print(
        f"fine-tuning: {tuned_pps:.1f} pairs/s wall ({tune / steps * 1000:.0f} ms per step); "
        f"CPU time {tune_cpu:.1f} s for {n} pairs = {n * args.threads / tune_cpu:.1f} pairs/s "
        f"if the process had its {args.threads} cores to itself"
    )
    print(
        f"frozen: embed once {n / embed:.1f} pairs/s; head epochs {n * args.epochs / heads:.0f} pairs/s"
    )
    print(
        f"whole training of {args.epochs} epochs: fine-tuned {tuned_total:.1f} s, frozen "
        f"{embed + heads:.2f} s -> frozen {tuned_total / (embed + heads):.1f}x faster"
    )


if __name__ == "__main__":
    main()
