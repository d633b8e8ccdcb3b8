"""Curation quality on a labelled corpus folder (records.jsonl + labels.jsonl), scored by score_curation.py.

Usage: python bench/curation_quality.py CORPUS_DIR [--stale-before 2020-01-01] [--scorer PATH]
Runs the real commands (`housevoice init`, `ingest`, `curate`) in a temporary workspace, then
prints the scorer's table: precision / recall / F1 per flag, duplicate and template pairs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCORER = REPO.parent / "shared" / "tools" / "score_curation.py"


def run(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "housevoice", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"housevoice {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--stale-before", default="2020-01-01")
    ap.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    ap.add_argument("--keep", type=Path, help="keep the workspace here instead of a temporary folder")
    args = ap.parse_args()
    records, labels = args.corpus / "records.jsonl", args.corpus / "labels.jsonl"
    for path in (records, labels, args.scorer):
        if not path.is_file():
            sys.exit(f"missing {path}")
    target = None
    voice = args.corpus / "voice.json"
    if voice.is_file():
        target = json.loads(voice.read_text()).get("target_author")
    with tempfile.TemporaryDirectory() as tmp:
        ws = args.keep or Path(tmp) / "ws"
        run("init", str(ws))
        run("ingest", str(ws), str(records))
        start = time.perf_counter()
        curate_args = ["curate", str(ws), "--stale-before", args.stale_before]
        if isinstance(target, str):
            curate_args += ["--target-author", target]
        run(*curate_args)
        seconds = time.perf_counter() - start
        print(f"corpus {args.corpus}: curated in {seconds:.1f} s (command wall time, imports included)")
        proc = subprocess.run([sys.executable, str(args.scorer), str(ws), str(labels), "--stale-before", args.stale_before],
                              capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            sys.exit(proc.stderr)


if __name__ == "__main__":
    main()
