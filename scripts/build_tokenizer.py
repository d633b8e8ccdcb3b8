"""Train the bundled fallback tokenizer (byte-level BPE, ~16k) on the shared dev texts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
OUT = REPO / "src" / "housevoice" / "curate" / "tokenizer" / "tokenizer.json"
SOURCES = ("dev-corpus/records.jsonl", "dev-transcripts/records.jsonl")


def texts(data: Path):
    for name in SOURCES:
        with open(data / name, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                yield record.get("text") or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--vocab-size", type=int, default=16_000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab_size,
        min_frequency=2,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts(args.data), trainer=trainer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, vocab {tokenizer.get_vocab_size():,})")


if __name__ == "__main__":
    main()
