"""Curation throughput: records/s, MB/s and peak memory of the flaggers on a scaled-up dev corpus.

Usage:
    python bench/curation_speed.py [--sizes 10000 100000] [--threads 2] [--no-datatrove]

The corpus is built once and written to Parquet; each measurement runs in its own process, which
reads it as `housevoice curate` reads its records (so peak RSS is that run's alone, without the
Python strings that built the corpus), with polars limited to --threads threads. The corpus is
the labelled dev corpus, grown with perturbed copies: every new record takes a random post,
shuffles its paragraphs (a fenced code block moves as one), swaps plain words (letters only: two
in three of the corpus's words) for plain words drawn from the corpus's running text, as often as
they occur there, until about a third of all its words changed, and gets a new id, date and title
(the original title with about a third of its words swapped for title words, so titles vary as a
real blog's do). Code, links, markup and punctuation stay as the post has them, so a copy has the
size and shape of a real post. 5% are light edits (3% of words) of another new record, so the
duplicate finder has real work.
"pipeline" is what `housevoice curate` runs (`curate_frame`): the cleaners, then token counts and
every default flagger (`build_flaggers(Config())`, stale before 2020-01-01) side by side, each
step timed on its own (steps after cleaning overlap, so they add up to more than "flag s");
"flaggers" runs the duplicate and template flaggers alone on raw text; "recurate" is
a second `housevoice curate` of a workspace curated before, with 1% more records since: texts cleaned at the
first run come from its caches (what curation computes per text, see curate/text_cache.py; the first run's time is in the steps); "datatrove" is
datatrove's own MinHash dedup pipeline on the smallest size; "scan" is a yardstick, one polars
regex pass over the same texts that removes their web addresses (`https?://\S+`: the "polars regex
scan" the speed goal names as a peer, 45,000 records/s there), and beside it, as a step, one that
counts their words (`\w+`, a heavier pass), run beside the largest size unless --no-scan: the
machines these figures come from differ (one 2-core machine ran the same code 1.6x slower than
another), so a figure is read against the scan of its own run. --html renders every
post to HTML first, as a WordPress export holds it (the cleaners then read HTML documents).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev-corpus" / "records.jsonl"


def dev_records() -> pl.DataFrame:
    rows = [json.loads(line) for line in DEV.open(encoding="utf-8")]
    return pl.DataFrame(
        {
            "record_id": [r["id"] for r in rows],
            "source_key": [r["id"] for r in rows],
            "source": [r["source"] for r in rows],
            "kind": [r["kind"] for r in rows],
            "author": [r.get("author") for r in rows],
            "title": [r.get("title") for r in rows],
            "text": [r["text"] for r in rows],
            "published_at": [datetime.fromisoformat(r["published_at"]) for r in rows],
            "url": [r.get("url") for r in rows],
            "status": ["publish"] * len(rows),
            "meta": ["{}"] * len(rows),
        }
    )


def _paragraphs(text: str) -> list[str]:
    """The text's blank-line-separated paragraphs, a fenced code block with blank lines kept as one."""
    out: list[str] = []
    open_fence = False
    for para in text.split("\n\n"):
        if open_fence:
            out[-1] += "\n\n" + para
        else:
            out.append(para)
        if sum(1 for line in para.split("\n") if line.lstrip().startswith(("```", "~~~"))) % 2:
            open_fence = not open_fence
    return out


def _perturb(text: str, rng: np.random.Generator, vocab: np.ndarray, share: float, shuffle: bool) -> str:
    paragraphs = _paragraphs(text)
    if shuffle:
        rng.shuffle(paragraphs)
    out = []
    for para in paragraphs:
        words = np.array(para.split(" "), dtype=object)
        plain = np.fromiter((w.isalpha() for w in words), bool, len(words))
        swap = (rng.random(len(words)) < share) & plain
        words[swap] = rng.choice(vocab, int(swap.sum()))
        out.append(" ".join(words))
    return "\n\n".join(out)


def scaled_corpus(n: int, seed: int = 0) -> pl.DataFrame:
    """The dev corpus plus perturbed copies up to n records (see the module docstring)."""
    base = dev_records()
    rng = np.random.default_rng(seed)
    # Plain running words, not distinct tokens: a draw picks "the" as often as the corpus uses it,
    # and code, links and markup are never drawn. (Until 2026-11-24 any token was swapped for one
    # drawn from the distinct tokens of 200 posts: rare long identifiers, code spans and links, which
    # made the copies 30% longer and 60% richer in code than the corpus.)
    words = [w for text in base["text"].to_list() for para in text.split("\n\n") for w in para.split(" ")]
    vocab = np.array([w for w in words if w.isalpha()], dtype=object)
    # Only plain words are swapped: to change a share of all words, swap share / plain of them.
    plain = len(vocab) / max(len(words), 1)
    title_vocab = np.array(" ".join(t or "" for t in base["title"].to_list()).split(), dtype=object)
    texts, titles, dates = base["text"].to_list(), base["title"].to_list(), base["published_at"].to_list()
    new_texts, new_titles, new_dates = [], [], []
    for i in range(max(n - base.height, 0)):
        if new_texts and rng.random() < 0.05:
            j = int(rng.integers(len(new_texts)))
            new_texts.append(_perturb(new_texts[j], rng, vocab, 0.03 / plain, shuffle=False))
            new_titles.append(new_titles[j])
            new_dates.append(new_dates[j] + timedelta(days=int(rng.integers(1, 900))))
        else:
            j = int(rng.integers(len(texts)))
            new_texts.append(_perturb(texts[j], rng, vocab, min(0.35 / plain, 1.0), shuffle=True))
            new_titles.append(_perturb(titles[j] or "Untitled", rng, title_vocab, 0.35, shuffle=False))
            new_dates.append(dates[j] + timedelta(days=int(rng.integers(1, 900))))
    extra = pl.DataFrame(
        {
            "record_id": [f"s-{i:08d}" for i in range(len(new_texts))],
            "source_key": [f"s-{i:08d}" for i in range(len(new_texts))],
            "source": ["scaled"] * len(new_texts),
            "kind": ["post"] * len(new_texts),
            "author": [None] * len(new_texts),
            "title": new_titles,
            "text": new_texts,
            "published_at": new_dates,
            "url": [None] * len(new_texts),
            "status": ["publish"] * len(new_texts),
            "meta": ["{}"] * len(new_texts),
        },
        schema=base.schema,
    )
    return pl.concat([base, extra]).head(n)


def as_wordpress_html(corpus: pl.DataFrame) -> pl.DataFrame:
    """The corpus as a WordPress export holds it: every text rendered from markdown to HTML."""
    from markdown_it import MarkdownIt

    render = MarkdownIt("commonmark").enable("table").render
    return corpus.with_columns(
        text=pl.Series([render(t) for t in corpus["text"].to_list()], dtype=pl.String), source=pl.lit("wordpress:scaled")
    )


def _flaggers(mode: str):
    from housevoice.curate.duplicates import DuplicateFlagger
    from housevoice.curate.templated import TemplateFlagger

    if mode == "pipeline":
        from housevoice.config import Config
        from housevoice.curate.pipeline import build_flaggers

        return build_flaggers(Config(), {"stale": {"before": "2020-01-01"}})
    return [DuplicateFlagger(), TemplateFlagger()]


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started its program. (getrusage's figure keeps
    the parent's peak across fork and exec on Linux: the parent holds the corpus it built.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(corpus: str, mode: str) -> dict:
    """One run (in a child process): read the corpus as `housevoice curate` reads its records
    (Parquet), then time cleaning + the flaggers. Peak RSS is this process's alone: the corpus
    was built in the parent, whose Python strings would otherwise count here."""
    records = pl.read_parquet(corpus)
    n = records.height
    mb = records["text"].str.len_bytes().sum() / 1e6
    if mode == "datatrove":
        return {**datatrove_dedup(records), "records": n, "mb": mb}
    if mode == "scan":
        start = time.perf_counter()
        records["text"].str.count_matches(r"\w+")
        words_s = time.perf_counter() - start
        start = time.perf_counter()
        records["text"].str.replace_all(r"https?://\S+", "")
        total = time.perf_counter() - start
        return {"records": n, "mb": mb, "total_s": total, "steps": {"words_counted": round(words_s, 2)}, "peak_rss_mb": _peak_rss_mb()}
    from housevoice.config import Config
    from housevoice.curate.pipeline import curate_frame, run_flaggers

    processes = int(os.environ.get("POLARS_MAX_THREADS", len(os.sched_getaffinity(0))))
    extra = {}
    if mode == "recurate":
        # A workspace curated before, then 1% more records: as `housevoice curate` runs it the second time.
        cache = tempfile.TemporaryDirectory()
        begin = time.perf_counter()
        curate_frame(records.head(n - n // 100), Config(), _flaggers("pipeline"), processes=processes, cache_dir=Path(cache.name))
        extra["first_run_s"] = round(time.perf_counter() - begin, 1)
    start = time.perf_counter()
    if mode in ("pipeline", "recurate"):
        # As `housevoice curate` runs it: HTML documents rendered in processes of their own (--threads of them).
        cache_dir = Path(cache.name) if mode == "recurate" else None
        _, rows, _, timings, _ = curate_frame(records, Config(), _flaggers("pipeline"), processes=processes, cache_dir=cache_dir)
        cleaned = start + timings[0].seconds
    else:
        # The duplicate and template flaggers alone: raw text stands in for clean_text.
        frame = records.with_columns(clean_text=pl.col("text"), n_tokens=pl.col("text").str.len_chars() // 4)
        cleaned = time.perf_counter()
        rows, _, timings = run_flaggers(frame, _flaggers(mode))
    end = time.perf_counter()
    return {
        "records": n, "mb": mb, "clean_s": cleaned - start, "flag_s": end - cleaned, "total_s": end - start,
        "flags": rows.height, "steps": {**extra, **{t.name: round(t.seconds, 2) for t in timings}},
        "peak_rss_mb": _peak_rss_mb(),
    }


def datatrove_dedup(records: pl.DataFrame) -> dict:
    """datatrove's own four-stage MinHash dedup on the same texts, local executor, temp folder."""
    try:
        from datatrove.data import Document
        from datatrove.executor import LocalPipelineExecutor
        from datatrove.pipeline.dedup.minhash import (
            MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupSignature,
        )
    except ImportError as exc:
        return {"error": f"datatrove is not importable: {exc}"}
    try:
        import spacy  # noqa: F401  (datatrove splits words with spacy's tokenizers)
    except ImportError:
        return {"error": "datatrove's MinHash needs spacy to split words, and spacy is not installed (pip install -e '.[bench]')"}
    docs = [Document(text=t, id=i) for i, t in zip(records["record_id"], records["text"])]
    from datatrove.utils.hashing import HashConfig

    # datatrove's default xxhash path hands str to xxhash, which 4.x refuses; sha1 encodes first.
    config = MinhashConfig(hash_config=HashConfig(hash_fc="sha1", precision=64))
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            steps = [
                [docs, MinhashDedupSignature(output_folder=f"{tmp}/sigs", config=config)],
                [MinhashDedupBuckets(input_folder=f"{tmp}/sigs", output_folder=f"{tmp}/buckets", config=config)],
                [MinhashDedupCluster(input_folder=f"{tmp}/buckets", output_folder=f"{tmp}/ids", config=config)],
            ]
            for i, pipeline in enumerate(steps):
                tasks = config.num_buckets if i == 1 else 1
                LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=2, logging_dir=f"{tmp}/log{i}").run()
    except Exception as exc:  # report why it could not run, do not hide it
        return {"error": f"datatrove pipeline failed: {type(exc).__name__}: {exc}"}
    total = time.perf_counter() - start
    return {"total_s": total, "peak_rss_mb": _peak_rss_mb(), "steps": {}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--no-scan", action="store_true", help="leave out the reference regex scan")
    ap.add_argument("--modes", nargs="+", choices=["flaggers", "pipeline", "recurate"], default=["pipeline"])
    ap.add_argument(
        "--html", action="store_true", help="each post as a WordPress export holds it: rendered to HTML (slow to build at 100k)"
    )
    ap.add_argument("--child", nargs=2, metavar=("CORPUS", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1])))
        return
    runs = [(n, m) for n in args.sizes for m in args.modes]
    if not args.no_datatrove:
        runs.append((min(args.sizes), "datatrove"))
    if not args.no_scan:
        runs.append((max(args.sizes), "scan"))
    env = dict(os.environ, POLARS_MAX_THREADS=str(args.threads), RAYON_NUM_THREADS=str(args.threads))
    print(f"{'records':>8} {'run':10} {'MB':>7} {'clean s':>8} {'flag s':>8} {'records/s':>10} {'MB/s':>6} {'peak MB':>8}  steps", flush=True)
    summary = []
    totals: dict[tuple[int, str], float] = {}
    words: dict[int, float] = {}  # (records: seconds of the scan's word count)
    tmp = tempfile.TemporaryDirectory()
    # One corpus of the largest size; a smaller one is its head (the same seed draws the same copies).
    corpus = scaled_corpus(max(args.sizes))
    if args.html:
        corpus = as_wordpress_html(corpus)
    for n in sorted(set(args.sizes)):
        corpus.head(n).write_parquet(f"{tmp.name}/corpus_{n}.parquet")
    del corpus
    for n, mode in runs:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", f"{tmp.name}/corpus_{n}.parquet", mode], capture_output=True, text=True, env=env
        )
        if proc.returncode != 0:
            print(f"{n:>8} {mode:10} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        if "error" in r:
            print(f"{n:>8} {mode:10} {r['error']}")
            continue
        total = r["total_s"]
        print(
            f"{n:>8} {mode:10} {r['mb']:7.1f} {r.get('clean_s', 0):8.1f} {r.get('flag_s', total):8.1f} "
            f"{n / total:10.0f} {r['mb'] / total:6.1f} {r['peak_rss_mb']:8.0f}  {r.get('steps', {})}",
            flush=True,
        )
        totals[(n, mode)] = total
        if mode == "scan":
            words[n] = r["steps"]["words_counted"]
        summary.append(
            f"{mode} at {n:,} records ({r['mb']:.0f} MB): {n / total:,.0f} records/s, {r['mb'] / total:.1f} MB/s, "
            f"peak RSS {r['peak_rss_mb']:,.0f} MB, {total:.1f} s"
        )
    tmp.cleanup()
    print("\nsummary (goal: 5,000 records/s on 2 cores at 100,000 records)")
    for line in summary:
        print("  " + line)
    for (n, mode), total in sorted(totals.items()):
        if mode != "scan" and (n, "scan") in totals:
            print(
                f"  {mode} at {n:,} records took {total / totals[(n, 'scan')]:.1f}x as long as one regex pass that removes "
                f"the texts' web addresses, {total / words[n]:.1f}x as long as one that counts their words"
            )


if __name__ == "__main__":
    main()
