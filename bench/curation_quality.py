"""Curation quality on a labelled corpus folder (records.jsonl + labels.jsonl), scored by score_curation.py.

Usage: python bench/curation_quality.py CORPUS_DIR [CORPUS_DIR ...] [--stale-before 2020-01-01] [--scorer PATH]
Runs the real commands (`housevoice init`, `ingest`, `curate`) in a temporary workspace, then
prints the scorer's table: precision / recall / F1 per flag, duplicate and template pairs.
Several folders are curated as one corpus (a blog and its podcast, say); a label one folder
lacks (transcripts carry no `has_html`) counts as absent for its records, except `exact_dup_of` and
`has_urls`, which are derived by the corpus README's rules (same text after NFC and whitespace
collapse as an earlier record; a web address anywhere).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCORER = REPO.parent / "shared" / "tools" / "score_curation.py"


def run(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "housevoice", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"housevoice {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _exact_copy_of(text: str, first_of: dict[str, str], record_id: str) -> str | None:
    """The corpus README's rule for `exact_dup_of`: the first record with the same text after
    Unicode NFC, every whitespace run collapsed to one space, and strip."""
    key = " ".join(unicodedata.normalize("NFC", text).split())
    first = first_of.setdefault(key, record_id)
    return None if first == record_id else first


# The corpus README's rule for `has_urls`: a web address anywhere in the raw text.
_HAS_URL = re.compile(r"""https?://[^\s<>()\[\]"'`]+""")


def _merged(folders: list[Path], tmp: Path) -> tuple[Path, Path]:
    """records.jsonl and labels.jsonl of one folder, or of several joined: labels a folder lacks are
    null, except `exact_dup_of` and `has_urls`, which are derived by their rules (transcripts carry
    no curation labels, and a podcast's turns repeat: "Yeah." said again is the same text)."""
    if len(folders) == 1:
        return folders[0] / "records.jsonl", folders[0] / "labels.jsonl"
    labels = [[json.loads(line) for line in (f / "labels.jsonl").open(encoding="utf-8") if line.strip()] for f in folders]
    keys = list(dict.fromkeys(k for rows in labels for row in rows for k in row))
    records, merged = tmp / "records.jsonl", tmp / "labels.jsonl"
    first_of: dict[str, str] = {}
    derived: dict[str, dict] = {}
    with records.open("w", encoding="utf-8") as out:
        for folder, rows in zip(folders, labels):
            lines = [line for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
            lacks = [key for key in ("exact_dup_of", "has_urls") if not any(key in row for row in rows)]
            for line in lines:
                record = json.loads(line)
                text = record.get("text") or ""
                rules = {"exact_dup_of": _exact_copy_of(text, first_of, record["id"]), "has_urls": bool(_HAS_URL.search(text))}
                derived[record["id"]] = {key: rules[key] for key in lacks}
                out.write(line + "\n")
    with merged.open("w", encoding="utf-8") as out:
        for rows in labels:
            for row in rows:
                row = {k: row.get(k) for k in keys} | derived.get(row["id"], {})
                out.write(json.dumps(row) + "\n")
    return records, merged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, nargs="+")
    ap.add_argument("--stale-before", default="2020-01-01")
    ap.add_argument("--scorer", type=Path, default=DEFAULT_SCORER)
    ap.add_argument("--keep", type=Path, help="keep the workspace here instead of a temporary folder")
    args = ap.parse_args()
    for folder in args.corpus:
        for path in (folder / "records.jsonl", folder / "labels.jsonl"):
            if not path.is_file():
                sys.exit(f"missing {path}")
    if not args.scorer.is_file():
        sys.exit(f"missing {args.scorer}")
    targets = {
        json.loads((folder / "voice.json").read_text()).get("target_author")
        for folder in args.corpus
        if (folder / "voice.json").is_file()
    }
    # One target author only when every folder that names one names the same.
    target = targets.pop() if len(targets) == 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        records, labels = _merged(args.corpus, Path(tmp))
        ws = args.keep or Path(tmp) / "ws"
        run("init", str(ws))
        run("ingest", str(ws), str(records))
        start = time.perf_counter()
        curate_args = ["curate", str(ws), "--stale-before", args.stale_before]
        if isinstance(target, str):
            curate_args += ["--target-author", target]
        run(*curate_args)
        seconds = time.perf_counter() - start
        print(f"corpus {' + '.join(map(str, args.corpus))}: curated in {seconds:.1f} s (command wall time, imports included)")
        proc = subprocess.run([sys.executable, str(args.scorer), str(ws), str(labels), "--stale-before", args.stale_before],
                              capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            sys.exit(proc.stderr)


if __name__ == "__main__":
    main()
