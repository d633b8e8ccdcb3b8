"""Ingest throughput: files/s and records/s reading a site folder of markdown posts, and a JSONL file.

Usage:
    python bench/ingest_speed.py [--copies 6]

The dev corpus's posts are written `--copies` times over as markdown files with front matter (a site
of some 5,000 posts at the default) and once as JSON Lines, in a temporary folder; each is then read
as `housevoice ingest` reads it (`read_source`: sniffing, reading, front matter), without a workspace.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from housevoice.ingest import read_source

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev-corpus" / "records.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=6)
    args = ap.parse_args()
    rows = [json.loads(line) for line in DEV.open(encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        for copy in range(args.copies):
            for n, row in enumerate(rows):
                title = (row.get("title") or "Untitled").replace('"', "'")
                (site / f"{copy}-{n}.md").write_text(f'---\ntitle: "{title}"\n---\n{row["text"]}', encoding="utf-8")
        table = Path(tmp) / "records.jsonl"
        with table.open("w", encoding="utf-8") as out:
            for copy in range(args.copies):
                for row in rows:
                    out.write(json.dumps({**row, "id": f"{row['id']}-{copy}"}) + "\n")
        for name, source in (("markdown folder", site), ("jsonl file", table)):
            start = time.perf_counter()
            summary, docs = read_source(source)
            seconds = time.perf_counter() - start
            print(
                f"{name:16s} {summary.files:6,} files {len(docs):7,} records {seconds:6.2f} s  "
                f"{summary.files / seconds:8,.0f} files/s {len(docs) / seconds:8,.0f} records/s"
            )


if __name__ == "__main__":
    main()
