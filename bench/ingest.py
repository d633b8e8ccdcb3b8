"""Ingest throughput: the dev corpus scaled ×N (generated on the fly) -> records/s, MB/s, peak RSS.

Usage: python bench/ingest.py [CORPUS_JSONL] [--scale 100]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev-corpus" / "records.jsonl"


def scaled_copy(src: Path, dst: Path, scale: int) -> int:
    """Write `scale` copies of every record, each with a new id and a small edit, so none are identical."""
    rows = [json.loads(line) for line in src.open(encoding="utf-8") if line.strip()]
    n = 0
    with dst.open("w", encoding="utf-8") as out:
        for copy in range(scale):
            for row in rows:
                row = dict(row, id=f"{row['id']}-{copy}", text=f"{row['text']}\n\n(copy {copy})")
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--scale", type=int, default=100)
    args = ap.parse_args()
    if not args.corpus.is_file():
        sys.exit(f"no corpus at {args.corpus}")

    from housevoice.ingest import ingest_sources
    from housevoice.store import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "scaled.jsonl"
        n = scaled_copy(args.corpus, src, args.scale)
        mb = src.stat().st_size / 2**20
        ws = Workspace.create(tmp / "ws")
        start = time.perf_counter()
        summary = ingest_sources(ws, [src])
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = ingest_sources(ws, [src])
        second = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"corpus: {args.corpus.name} ×{args.scale} = {n:,} records, {mb:,.0f} MB of JSONL")
        print(f"first ingest:  {first:6.1f} s  {n / first:10,.0f} records/s  {mb / first:7.1f} MB/s  ({summary.new:,} new)")
        print(f"re-ingest:     {second:6.1f} s  {n / second:10,.0f} records/s  {mb / second:7.1f} MB/s  ({again.unchanged:,} unchanged)")
        print(f"peak RSS: {rss:,.0f} MB")


if __name__ == "__main__":
    main()
